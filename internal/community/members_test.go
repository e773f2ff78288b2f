package community_test

import (
	"errors"
	"testing"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

func TestFollows(t *testing.T) {
	t.Parallel()
	t.Run("an open community accepts at once and answers again on a repeat", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		ann := w.actor("https://a.example/users/ann")
		for i := 0; i < 2; i++ {
			state, err := w.svc.Follow(w.ctx, w.c.Name, w.in(ann, "Follow"), ann.IRI+"/follows/1")
			if err != nil || state != storage.FollowAccepted {
				t.Fatalf("Follow #%d = %q, %v; want accepted", i+1, state, err)
			}
		}
		accepts := w.r.Of("AcceptFollow")
		if len(accepts) != 2 {
			t.Fatalf("AcceptFollow rendered %d times, want once per Follow", len(accepts))
		}
		for _, a := range accepts {
			if q := w.queued()[a.Activity.IRI]; !sameSet(q, []string{ann.Inbox}) {
				t.Errorf("Accept queued for %v, want the follower's inbox", q)
			}
		}
		if n, iris, err := w.svc.Followers(w.ctx, w.c, 0, 10); err != nil || n != 1 || len(iris) != 1 || iris[0] != ann.IRI {
			t.Errorf("Followers = %d, %v, %v; want ann", n, iris, err)
		}
	})
	t.Run("a replayed Follow changes nothing", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		ann := w.actor("https://a.example/users/ann")
		in := w.in(ann, "Follow")
		for i := 0; i < 2; i++ {
			if _, err := w.svc.Follow(w.ctx, w.c.Name, in, ann.IRI+"/follows/1"); err != nil {
				t.Fatal(err)
			}
		}
		if got := len(w.r.Of("AcceptFollow")); got != 1 {
			t.Errorf("a replayed Follow rendered %d Accepts, want 1", got)
		}
	})
	t.Run("approval: pending until approved, or rejected", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		if _, err := w.svc.EditCommunity(w.ctx, w.c.Name, community.CommunityEdit{Title: "Seeds", JoinMode: community.JoinApproval}); err != nil {
			t.Fatal(err)
		}
		ann := w.actor("https://a.example/users/ann")
		bea := w.actor("https://b.example/users/bea")
		for _, a := range []storage.Actor{ann, bea} {
			if state, err := w.svc.Follow(w.ctx, w.c.Name, w.in(a, "Follow"), a.IRI+"/follows/1"); err != nil || state != storage.FollowPending {
				t.Fatalf("Follow in approval mode = %q, %v; want pending", state, err)
			}
		}
		if len(w.r.Of("AcceptFollow")) != 0 {
			t.Errorf("a pending follow was accepted: %+v", w.r.Of("AcceptFollow"))
		}
		if err := w.submit(ann, w.note(ann, "before approval")); !isRefused(err) {
			t.Errorf("a pending follower's post = %v, want refused", err)
		}
		pending, err := w.svc.PendingFollows(w.ctx, w.c.Name)
		if err != nil || len(pending) != 2 {
			t.Fatalf("PendingFollows = %+v, %v; want two", pending, err)
		}
		member := community.Member(ann.IRI) // a pending follower, not a moderator
		if err := w.svc.ApproveFollow(w.ctx, member, w.c.Name, ann.IRI); !errors.Is(err, community.ErrForbidden) {
			t.Errorf("ApproveFollow by a member = %v, want ErrForbidden", err)
		}
		if err := w.svc.ApproveFollow(w.ctx, community.Operator("ops"), w.c.Name, ann.IRI); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.RejectFollow(w.ctx, community.Operator("ops"), w.c.Name, bea.IRI); err != nil {
			t.Fatal(err)
		}
		log, err := w.svc.AuditLog(w.ctx, 10)
		if err != nil || len(log) != 2 || log[1].Action != "follow approve" || log[1].Target != ann.IRI || log[1].Username != "cli:ops" {
			t.Errorf("AuditLog = %+v, %v; want the approval and the rejection by cli:ops", log, err)
		}
		if got := w.objects("AcceptFollow", "*"); !sameSet(got, []string{ann.IRI}) {
			t.Errorf("Accept rendered for %v, want ann", got)
		}
		if got := w.objects("RejectFollow", "*"); !sameSet(got, []string{bea.IRI}) {
			t.Errorf("Reject rendered for %v, want bea", got)
		}
		q := w.queued()
		if a := w.r.Of("AcceptFollow")[0]; !sameSet(q[a.Activity.IRI], []string{ann.Inbox}) {
			t.Errorf("Accept queued for %v, want ann's inbox", q[a.Activity.IRI])
		}
		if r := w.r.Of("RejectFollow")[0]; !sameSet(q[r.Activity.IRI], []string{bea.Inbox}) {
			t.Errorf("Reject queued for %v, want bea's inbox", q[r.Activity.IRI])
		}
		if role, err := w.svc.Role(w.ctx, w.c, ann.IRI); err != nil || role != storage.RoleMember {
			t.Errorf("Role of the approved follower = %q, %v; want member", role, err)
		}
		if role, err := w.svc.Role(w.ctx, w.c, bea.IRI); err != nil || role != "" {
			t.Errorf("Role of the rejected follower = %q, %v; want none", role, err)
		}
		if err := w.svc.ApproveFollow(w.ctx, community.Operator("ops"), w.c.Name, ann.IRI); err != nil || len(w.r.Of("AcceptFollow")) != 1 {
			t.Errorf("approving twice = %v with %d Accepts, want one", err, len(w.r.Of("AcceptFollow")))
		}
		if err := w.svc.ApproveFollow(w.ctx, community.Operator("ops"), w.c.Name, bea.IRI); !errors.Is(err, community.ErrNotFound) {
			t.Errorf("approving a rejected request = %v, want ErrNotFound", err)
		}
	})
	t.Run("undo ends the membership", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		ann := w.member("https://a.example/users/ann")
		for i := 0; i < 2; i++ {
			if err := w.svc.Unfollow(w.ctx, w.c.Name, w.in(ann, "Undo")); err != nil {
				t.Fatalf("Unfollow #%d = %v", i+1, err)
			}
		}
		if n, _, err := w.svc.Members(w.ctx, w.c, 0, 10); err != nil || n != 0 {
			t.Errorf("Members after Undo{Follow} = %d, %v; want 0", n, err)
		}
		if err := w.submit(ann, w.note(ann, "after leaving")); !isRefused(err) {
			t.Errorf("a former member's post = %v, want refused", err)
		}
	})
}

func TestRolesAndBans(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	bea := w.member("https://b.example/users/bea")
	stranger := w.actor("https://x.example/users/x")
	w.r.Reset()

	if err := w.svc.SetRole(w.ctx, community.Operator("admin"), w.c.Name, ann.IRI, "queen"); !isInvalid(err, "role") {
		t.Errorf("SetRole(queen) = %v, want InvalidError", err)
	}
	if err := w.svc.SetRole(w.ctx, community.Operator("admin"), w.c.Name, stranger.IRI, storage.RoleModerator); !isRefused(err) {
		t.Errorf("SetRole of a non-member = %v, want refused", err)
	}
	if err := w.svc.SetRole(w.ctx, community.Operator("admin"), w.c.Name, ann.IRI, storage.RoleBroker); err != nil || len(w.r.Of("RoleChange")) != 0 {
		t.Errorf("SetRole(broker) = %v and rendered %+v; want no moderators change", err, w.r.Of("RoleChange"))
	}
	if err := w.svc.SetRole(w.ctx, community.Operator("admin"), w.c.Name, ann.IRI, storage.RoleModerator); err != nil {
		t.Fatal(err)
	}
	if got := w.r.Of("RoleChange"); len(got) != 1 || got[0].Object != ann.IRI || got[0].Verb != "add" {
		t.Fatalf("SetRole(moderator) rendered %+v, want Add of ann", got)
	}
	if q := w.queued()[w.r.Of("RoleChange")[0].Activity.IRI]; !sameSet(q, []string{ann.Inbox, bea.Inbox}) {
		t.Errorf("Add to moderators queued for %v, want every follower", q)
	}
	if mods, err := w.svc.Moderators(w.ctx, w.c); err != nil || len(mods) != 1 || mods[0] != ann.IRI {
		t.Errorf("Moderators = %v, %v; want ann", mods, err)
	}
	if err := w.svc.SetRole(w.ctx, community.Operator("admin"), w.c.Name, ann.IRI, storage.RoleModerator); err != nil || len(w.r.Of("RoleChange")) != 1 {
		t.Errorf("the same role again = %v, rendered %d; want nothing new", err, len(w.r.Of("RoleChange")))
	}
	if err := w.svc.SetRole(w.ctx, community.Operator("admin"), w.c.Name, ann.IRI, storage.RoleMember); err != nil {
		t.Fatal(err)
	}
	if got := w.r.Of("RoleChange"); len(got) != 2 || got[1].Verb != "remove" {
		t.Errorf("SetRole(member) of a moderator rendered %+v, want Remove", got)
	}

	w.r.Reset()
	w.ban(bea.IRI)
	blocks := w.r.Of("Block")
	if len(blocks) != 1 || blocks[0].Object != bea.IRI || blocks[0].Verb != "" {
		t.Fatalf("Ban rendered %+v, want Block of bea", blocks)
	}
	// The remaining followers and the banned actor learn of the ban.
	if q := w.queued()[blocks[0].Activity.IRI]; !sameSet(q, []string{ann.Inbox, bea.Inbox}) {
		t.Errorf("Block queued for %v, want ann and bea", q)
	}
	if role, err := w.svc.Role(w.ctx, w.c, bea.IRI); err != nil || role != "" {
		t.Errorf("Role after a ban = %q, %v; want the follow ended", role, err)
	}
	if bans, err := w.svc.Bans(w.ctx, w.c); err != nil || len(bans) != 1 {
		t.Errorf("Bans = %+v, %v; want bea", bans, err)
	}
	log, err := w.svc.ModerationLog(w.ctx, w.c)
	if err != nil || len(log) == 0 || log[0].Action != "ban" || log[0].Target != bea.IRI {
		t.Errorf("ModerationLog = %+v, %v; want the ban first", log, err)
	}
	if err := w.svc.Unban(w.ctx, community.Operator("admin"), w.c.Name, bea.IRI); err != nil {
		t.Fatal(err)
	}
	if got := w.r.Of("Block"); len(got) != 2 || got[1].Verb != "undo" {
		t.Errorf("Unban rendered %+v, want Undo{Block}", got)
	}
	if err := w.svc.Unban(w.ctx, community.Operator("admin"), w.c.Name, bea.IRI); err != nil || len(w.r.Of("Block")) != 2 {
		t.Errorf("unbanning twice = %v, rendered %d; want nothing new", err, len(w.r.Of("Block")))
	}
	if state, err := w.svc.Follow(w.ctx, w.c.Name, w.in(bea, "Follow"), bea.IRI+"/follows/2"); err != nil || state != storage.FollowAccepted {
		t.Errorf("Follow after the unban = %q, %v; want accepted", state, err)
	}
}

func TestReports(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	spammer := w.member("https://spam.example/users/s")
	remoteMod := w.moderator("https://m.example/users/mo")
	reporter := w.actor("https://r.example/users/r")
	spam := w.note(spammer, "<p>buy now</p>")
	w.mustSubmit(spammer, spam)
	w.r.Reset()

	if err := w.svc.Report(w.ctx, w.c.Name, w.in(reporter, "Flag"), []string{spam.IRI}, "spam"); err != nil {
		t.Fatal(err)
	}
	// Reporting the same object again is recorded, not queued twice.
	if err := w.svc.Report(w.ctx, w.c.Name, w.in(reporter, "Flag"), []string{spam.IRI}, "spam again"); err != nil {
		t.Fatal(err)
	}
	reports, err := w.svc.Reports(w.ctx, w.c.Name)
	if err != nil || len(reports) != 1 {
		t.Fatalf("Reports = %+v, %v; want one open report", reports, err)
	}
	flags := w.r.Of("Flag")
	if len(flags) != 1 || flags[0].Object != spam.IRI {
		t.Fatalf("Report rendered %+v, want one Flag forwarded", flags)
	}
	if q := w.queued()[flags[0].Activity.IRI]; !sameSet(q, []string{remoteMod.Inbox}) {
		t.Errorf("the Flag was queued for %v, want the remote moderator only", q)
	}

	if _, err := w.svc.ResolveReport(w.ctx, community.Operator("admin"), reports[0].ID, "shrug"); !isInvalid(err, "resolution") {
		t.Errorf("ResolveReport(shrug) = %v, want InvalidError", err)
	}
	r, err := w.svc.ResolveReport(w.ctx, community.Operator("admin"), reports[0].ID, community.ResolveBan)
	if err != nil || r.State != "resolved" {
		t.Fatalf("ResolveReport(ban) = %+v, %v", r, err)
	}
	if got := w.objects("RemovePost", "*"); !sameSet(got, []string{spam.IRI}) {
		t.Errorf("RemovePost rendered for %v, want the spam", got)
	}
	if got := w.objects("Block", ""); !sameSet(got, []string{spammer.IRI}) {
		t.Errorf("Block rendered for %v, want the spammer", got)
	}
	if w.post(spam.IRI).DeletedAt.IsZero() {
		t.Error("the reported post was not removed")
	}
	if err := w.submit(spammer, w.note(spammer, "again")); !isRefused(err) {
		t.Errorf("the banned author's next post = %v, want refused", err)
	}
	if _, err := w.svc.ResolveReport(w.ctx, community.Operator("admin"), reports[0].ID, community.ResolveDismiss); !isRefused(err) {
		t.Errorf("resolving a resolved report = %v, want refused", err)
	}

	if err := w.svc.Report(w.ctx, w.c.Name, w.in(reporter, "Flag"), []string{"https://a.example/x"}, ""); err != nil {
		t.Fatal(err)
	}
	reports, _ = w.svc.Reports(w.ctx, w.c.Name)
	if r, err := w.svc.ResolveReport(w.ctx, community.Operator("admin"), reports[0].ID, community.ResolveDismiss); err != nil || r.State != "dismissed" {
		t.Errorf("ResolveReport(dismiss) = %+v, %v", r, err)
	}
	if r, err := w.svc.ReportByID(w.ctx, reports[0].ID); err != nil || r.Resolution != community.ResolveDismiss {
		t.Errorf("ReportByID = %+v, %v", r, err)
	}
}

// TestModerationTakesAPrincipal: bans, roles and report resolutions check
// the principal and write the audit row in the transaction of the change,
// whatever the door (issue 11).
func TestModerationTakesAPrincipal(t *testing.T) {
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	bea := w.member("https://b.example/users/bea")
	if err := w.svc.Ban(w.ctx, community.Member(ann.IRI), w.c.Name, bea.IRI, "no reason"); !errors.Is(err, community.ErrForbidden) {
		t.Errorf("a ban by a member who is no moderator = %v, want forbidden", err)
	}
	if err := w.svc.SetRole(w.ctx, community.Member(ann.IRI), w.c.Name, ann.IRI, storage.RoleModerator); !errors.Is(err, community.ErrForbidden) {
		t.Errorf("a member making herself moderator = %v, want forbidden", err)
	}
	if banned, _ := w.st.IsBanned(w.ctx, w.c.ID, bea.IRI); banned {
		t.Fatal("the refused ban was stored")
	}
	if err := w.svc.Ban(w.ctx, community.Operator("ops"), w.c.Name, bea.IRI, "spam"); err != nil {
		t.Fatal(err)
	}
	log, err := w.svc.AuditLog(w.ctx, 10)
	if err != nil || len(log) == 0 || log[0].Username != "cli:ops" || log[0].Action != "member ban" || log[0].Target != bea.IRI {
		t.Errorf("audit log = %+v, %v; want the ban by cli:ops first", log, err)
	}
}
