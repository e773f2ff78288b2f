package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

func TestCreateCommunity(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()
	tests := []struct {
		name   string
		form   url.Values
		status int
		wants  []string
	}{
		{"an upper-case name and no title", url.Values{"name": {"Moths"}, "title": {""}, "summary": {"Night <b>flyers</b>"}, "join": {"approval"}},
			http.StatusUnprocessableEntity, []string{"use 2 to 64 lower-case letters", `value="Moths"`, "Night &lt;b&gt;flyers&lt;/b&gt;</textarea>",
				`value="approval" checked`, `aria-invalid="true"`}},
		{"a taken name", url.Values{"name": {"seeds"}, "title": {"Seeds again"}, "join": {"open"}},
			http.StatusConflict, []string{"taken: choose another name", `value="Seeds again"`}},
		{"an unknown join mode", url.Values{"name": {"moths"}, "title": {"Moths"}, "join": {"closed"}},
			http.StatusUnprocessableEntity, []string{"must be open, approval or invite"}},
		{"PAR-07 a title that is not UTF-8", url.Values{"name": {"bats"}, "title": {"Bats \xff\xfe"}, "join": {"open"}},
			http.StatusBadRequest, []string{"not UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tc.post("/admin/communities", se, tt.form)
			wantStatus(t, rec, tt.status)
			wantBody(t, rec, tt.wants...)
		})
	}
	if _, err := tc.svc.Community(ctx, "bats"); err == nil {
		t.Errorf("a community was created from a form that is not UTF-8")
	}
	rec := tc.post("/admin/communities", se, url.Values{"name": {"moths"}, "title": {"Moths"}, "summary": {"Night flyers."}, "join": {"approval"}})
	wantRedirect(t, rec, "/admin/communities/moths?done=created")
	c, err := tc.svc.Community(ctx, "moths")
	if err != nil || c.Title != "Moths" || c.JoinMode != "approval" {
		t.Errorf("created community = %+v, %v", c, err)
	}
	wantBody(t, tc.get("/admin/communities/moths?done=created", se), "Created.")
	wantBody(t, tc.get("/admin/communities/moths?done=<script>", se), "<h1>Settings</h1>")
}

func TestEditAndArchiveCommunity(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()

	rec := tc.post("/admin/communities/seeds", se, url.Values{"title": {""}, "summary": {"Kept"}, "join": {"open"}, "posting": {"everyone"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "must be members, anyone or moderators", ">Kept</textarea>", `id="s-title-error"`)

	rec = tc.post("/admin/communities/seeds", se, url.Values{"title": {"Seed savers of the valley"}, "summary": {"Saving and sharing seeds."},
		"join": {"open"}, "posting": {"anyone"}})
	wantRedirect(t, rec, "/admin/communities/seeds?done=saved")
	c, _ := tc.svc.Community(ctx, "seeds")
	if c.Title != "Seed savers of the valley" || c.Summary != "Saving and sharing seeds." || c.JoinMode != "open" || c.PostingPolicy != "anyone" || c.BoostReplies {
		t.Errorf("after save: %+v; want the new title, summary, open, anyone, no reply boosts", c)
	}

	wantRedirect(t, tc.post("/admin/communities/seeds/archive", se, url.Values{"archive": {"1"}}), "/admin/communities/seeds?done=archived")
	c, _ = tc.svc.Community(ctx, "seeds")
	if c.JoinMode != "invite" || c.PostingPolicy != "moderators" {
		t.Errorf("archived: join %s, posting %s", c.JoinMode, c.PostingPolicy)
	}
	rec = tc.get("/admin/communities/seeds", se)
	wantBody(t, rec, "Archived since", "Restore this community")
	wantBody(t, tc.get("/admin/", se), `<span class="tag">archived</span>`)
	wantRedirect(t, tc.post("/admin/communities/seeds/archive", se, url.Values{"archive": {"0"}}), "/admin/communities/seeds?done=restored")
	wantBody(t, tc.get("/admin/communities/seeds", se), "Archive this community")
}

func TestMembers(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()
	carol := tc.remoteActor("carol")
	tc.follow("seeds", carol)

	rec := tc.post("/admin/communities/seeds/members/approve", se, url.Values{"actor": {"https://remote.example/users/nobody"}})
	wantStatus(t, rec, http.StatusNotFound)
	wantBody(t, rec, `class="problem"`, "<h1>Members</h1>")

	wantRedirect(t, tc.post("/admin/communities/seeds/members/approve", se, url.Values{"actor": {tc.ann.IRI}}), "/admin/communities/seeds/members?done=approved")
	wantRedirect(t, tc.post("/admin/communities/seeds/members/reject", se, url.Values{"actor": {carol.IRI}}), "/admin/communities/seeds/members?done=rejected")
	seeds, _ := tc.svc.Community(ctx, "seeds")
	if role, _ := tc.svc.Role(ctx, seeds, tc.ann.IRI); role != storage.RoleMember {
		t.Errorf("ann's role after approval = %q, want member", role)
	}
	if pending, _ := tc.svc.PendingFollows(ctx, "seeds"); len(pending) != 0 {
		t.Errorf("pending after approve and reject = %+v", pending)
	}
	if queued, _, _ := tc.st.QueueStats(ctx); queued == 0 {
		t.Error("approve and reject queued no Accept or Reject")
	}

	rec = tc.post("/admin/communities/seeds/members/role", se, url.Values{"actor": {tc.ann.IRI}, "role": {"sovereign"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "must be owner, moderator, broker or member")
	rec = tc.post("/admin/communities/seeds/members/role", se, url.Values{"actor": {carol.IRI}, "role": {"moderator"}})
	wantStatus(t, rec, http.StatusConflict)
	wantBody(t, rec, "must follow it first")
	wantRedirect(t, tc.post("/admin/communities/seeds/members/role", se, url.Values{"actor": {tc.ann.IRI}, "role": {"moderator"}}), "/admin/communities/seeds/members?done=role")
	if role, _ := tc.svc.Role(ctx, seeds, tc.ann.IRI); role != storage.RoleModerator {
		t.Errorf("ann's role = %q, want moderator", role)
	}
	wantBody(t, tc.get("/admin/communities/seeds/members", se), `<option value="moderator" selected>`)

	rec = tc.post("/admin/communities/bees/members/ban", se, url.Values{"actor": {"@nobody@remote.example"}, "reason": {"spam"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "not known here", `value="@nobody@remote.example"`, `value="spam"`)
	wantRedirect(t, tc.post("/admin/communities/bees/members/ban", se, url.Values{"actor": {"@bob@remote.example"}, "reason": {"spam"}}), "/admin/communities/bees/members?done=banned")
	bees, _ := tc.svc.Community(ctx, "bees")
	if bans, _ := tc.svc.Bans(ctx, bees); len(bans) != 1 || bans[0].ActorIRI != tc.bob.IRI || bans[0].By != "root" {
		t.Errorf("bans = %+v, want bob banned by root", bans)
	}
	wantBody(t, tc.get("/admin/communities/bees/members", se), "Lift ban", "@bob@remote.example")
	wantRedirect(t, tc.post("/admin/communities/bees/members/unban", se, url.Values{"actor": {tc.bob.IRI}}), "/admin/communities/bees/members?done=unbanned")
	if bans, _ := tc.svc.Bans(ctx, bees); len(bans) != 0 {
		t.Errorf("bans after unban = %+v", bans)
	}
	log, _ := tc.svc.ModerationLog(ctx, seeds)
	if len(log) == 0 || log[0].Action != "role moderator" || log[0].By != "root" {
		t.Errorf("moderation log of seeds = %+v, want the role change by root", log)
	}
}

func TestResolveReport(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()
	report := func(communityName, id string) int64 {
		in := community.Incoming{IRI: "https://remote.example/flags/" + id, Type: "Flag", Actor: tc.bob, Raw: []byte(`{"type":"Flag"}`)}
		if err := tc.svc.Report(ctx, communityName, in, []string{"https://remote.example/notes/" + id}, "Off topic <b>spam</b>"); err != nil {
			t.Fatal(err)
		}
		rs, err := tc.svc.Reports(ctx, communityName)
		if err != nil || len(rs) == 0 {
			t.Fatalf("reports of %s: %v %v", communityName, rs, err)
		}
		return rs[len(rs)-1].ID
	}
	seedsReport := report("seeds", "1")
	beesReport := report("bees", "2")
	rec := tc.get("/admin/communities/seeds/moderation", se)
	wantBody(t, rec, "Report ", "@bob@remote.example", "https://remote.example/notes/1", "Dismiss")
	if strings.Contains(rec.Body.String(), "<b>spam</b>") {
		t.Error("a report's reason is shown as HTML")
	}
	wantStatus(t, tc.post("/admin/communities/seeds/moderation/resolve", se, url.Values{"report": {itoa(beesReport)}, "resolution": {"dismiss"}}), http.StatusForbidden)
	rec = tc.post("/admin/communities/seeds/moderation/resolve", se, url.Values{"report": {itoa(seedsReport)}, "resolution": {"ignore"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantRedirect(t, tc.post("/admin/communities/seeds/moderation/resolve", se, url.Values{"report": {itoa(seedsReport)}, "resolution": {"dismiss"}}), "/admin/communities/seeds/moderation?done=resolved")
	if rs, _ := tc.svc.Reports(ctx, "seeds"); len(rs) != 0 {
		t.Errorf("open reports of seeds after dismiss = %+v", rs)
	}
	rec = tc.get("/admin/communities/seeds/moderation", se)
	wantBody(t, rec, "No open reports", "report dismiss")
	rec = tc.post("/admin/communities/seeds/moderation/resolve", se, url.Values{"report": {"x"}, "resolution": {"dismiss"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
}

func TestResources(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()
	bees, _ := tc.svc.Community(ctx, "bees")

	rec := tc.post("/admin/communities/bees/resources", se, url.Values{"kind": {"link"}, "title": {"Hive plans"}, "url": {"javascript:alert(1)"}, "tags": {"hives"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "must be an http(s) URL", `value="Hive plans"`, `value="hives"`)

	wantRedirect(t, tc.post("/admin/communities/bees/resources", se, url.Values{"kind": {"link"}, "title": {"Hive plans"}, "url": {"https://example.org/hives"}, "tags": {"hives, wood"}}),
		"/admin/communities/bees/resources?done=added")
	rec = tc.postMultipart("/admin/communities/bees/resources", se, url.Values{"kind": {"document"}, "title": {"Swarm notes"}}, "file", "swarm.txt", []byte("Swarms in May.\n"))
	wantRedirect(t, rec, "/admin/communities/bees/resources?done=added")
	rec = tc.postMultipart("/admin/communities/bees/resources", se, url.Values{"kind": {"document"}, "title": {"Fake image"}}, "file", "photo.png", []byte("not a png"))
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "this kind of file is not accepted", `value="Fake image"`)

	_, rs, _ := tc.svc.Resources(ctx, bees, storage.ResourcePublished, 0, 10)
	if len(rs) != 2 {
		t.Fatalf("published resources = %+v, want 2", rs)
	}
	var file storage.Resource
	for _, r := range rs {
		if r.Title == "Swarm notes" {
			file = r
		}
	}
	if file.FileHash == "" || file.FileExt != ".txt" || file.ProposedBy != "root" {
		t.Errorf("uploaded resource = %+v, want a stored .txt added by root", file)
	}

	// A member's proposal waits until the console publishes it.
	note := community.Note{IRI: "https://remote.example/notes/9", Type: "Note", AuthorIRI: tc.bob.IRI, Name: "Queen rearing", Content: "<p>A guide</p>", Public: true}
	in := community.Incoming{IRI: "https://remote.example/activities/9", Type: "Create", Actor: tc.bob, Raw: []byte(`{"type":"Create"}`)}
	if err := tc.svc.Propose(ctx, "bees", in, note, "https://example.org/queens"); err != nil {
		t.Fatal(err)
	}
	_, proposed, _ := tc.svc.Resources(ctx, bees, storage.ResourceProposed, 0, 10)
	if len(proposed) != 1 {
		t.Fatalf("proposed = %+v", proposed)
	}
	wantBody(t, tc.get("/admin/communities/bees/resources", se), "Queen rearing", "Publish Queen rearing")
	wantRedirect(t, tc.post("/admin/communities/bees/resources/state", se, url.Values{"resource": {proposed[0].IRI}, "state": {"published"}}), "/admin/communities/bees/resources?done=published")
	if r, _, _ := tc.svc.Resource(ctx, proposed[0].IRI); r.State != storage.ResourcePublished || r.PublishedBy != "root" {
		t.Errorf("after publish: %+v", r)
	}
	wantStatus(t, tc.post("/admin/communities/bees/resources/state", se, url.Values{"resource": {proposed[0].IRI}, "state": {"gone"}}), http.StatusUnprocessableEntity)
	wantRedirect(t, tc.post("/admin/communities/bees/resources/state", se, url.Values{"resource": {proposed[0].IRI}, "state": {"archived"}}), "/admin/communities/bees/resources?done=unpublished")
	if r, _, _ := tc.svc.Resource(ctx, proposed[0].IRI); r.State != storage.ResourceArchived {
		t.Errorf("after archive: %s", r.State)
	}
	wantStatus(t, tc.post("/admin/communities/bees/resources/state", se, url.Values{"resource": {"https://coppice.example/c/bees/resources/ffff"}, "state": {"archived"}}), http.StatusNotFound)
}

func TestMeetings(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()
	tests := []struct {
		name  string
		form  url.Values
		wants []string
	}{
		{"an end before the start and a bad RRULE",
			url.Values{"title": {"Seed swap"}, "start": {"2026-07-01T18:00"}, "end": {"2026-07-01T17:00"}, "timezone": {"Europe/Berlin"}, "repeat": {"FREQ=SOMETIMES"}},
			[]string{"must be after the start", `id="m-repeat-error"`, `value="Seed swap"`, `value="2026-07-01T18:00"`, `<option value="Europe/Berlin" selected>`}},
		{"no start and an unknown zone",
			url.Values{"title": {"Seed swap"}, "start": {"soon"}, "end": {"2026-07-01T17:00"}, "timezone": {"Mars/Olympus"}},
			[]string{"give a date and a time", "must be an IANA time zone", `value="soon"`}},
		{"a place and a link", url.Values{"title": {"Seed swap"}, "start": {"2026-07-01T18:00"}, "end": {"2026-07-01T19:00"}, "timezone": {"UTC"},
			"place": {"Town hall"}, "online": {"https://meet.example/x"}}, []string{"give a place or an online link, not both"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tc.post("/admin/communities/seeds/meetings", se, tt.form)
			wantStatus(t, rec, http.StatusUnprocessableEntity)
			wantBody(t, rec, tt.wants...)
		})
	}
	rec := tc.post("/admin/communities/seeds/meetings", se, url.Values{"title": {"Seed swap"}, "description": {"Bring seeds."},
		"start": {"2026-07-01T18:00"}, "end": {"2026-07-01T19:30"}, "timezone": {"Europe/Berlin"}, "place": {"Town hall"},
		"repeat": {"freq=weekly;count=4"}, "capacity": {"20"}})
	wantRedirect(t, rec, "/admin/communities/seeds/meetings?done=scheduled")
	seeds, _ := tc.svc.Community(ctx, "seeds")
	_, ms, _ := tc.svc.Meetings(ctx, seeds, 0, 10)
	if len(ms) != 1 {
		t.Fatalf("meetings = %+v", ms)
	}
	m := ms[0].Meeting
	if want := time.Date(2026, 7, 1, 16, 0, 0, 0, time.UTC); !m.Start.Equal(want) || !m.End.Equal(want.Add(90*time.Minute)) ||
		m.TimeZone != "Europe/Berlin" || m.RRule != "FREQ=WEEKLY;COUNT=4" || m.Capacity != 20 || m.CreatedBy != "root" {
		t.Errorf("meeting = %+v; want 16:00-17:30 UTC in Europe/Berlin, weekly 4 times, 20 places, by root", m)
	}
	wantBody(t, tc.get("/admin/communities/seeds/meetings", se), "Seed swap", "Wed 1 Jul 2026 18:00 – 19:30 (Europe/Berlin)", "Cancel Seed swap")
	wantRedirect(t, tc.post("/admin/communities/seeds/meetings/cancel", se, url.Values{"meeting": {m.IRI}}), "/admin/communities/seeds/meetings?done=cancelled")
	if mv, _ := tc.svc.Meeting(ctx, m.IRI); mv.Meeting.Status != storage.MeetingCancelled {
		t.Errorf("status after cancel = %s", mv.Meeting.Status)
	}
	wantBody(t, tc.get("/admin/communities/seeds/meetings", se), `<span class="tag">cancelled</span>`)
}

func TestFederation(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()
	for _, tt := range []struct {
		name, host, policy, wantErr string
	}{
		{"a URL for a host", "https://bad.example/", "block", "without https://"},
		{"an unknown policy", "bad.example", "shun", "must be block, silence"},
		{"no host", "", "block", "required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := tc.post("/admin/federation/policy", se, url.Values{"host": {tt.host}, "policy": {tt.policy}})
			wantStatus(t, rec, http.StatusUnprocessableEntity)
			wantBody(t, rec, tt.wantErr)
		})
	}
	wantRedirect(t, tc.post("/admin/federation/policy", se, url.Values{"host": {"Bad.Example"}, "policy": {"block"}}), "/admin/federation?done=policy")
	wantRedirect(t, tc.post("/admin/federation/policy", se, url.Values{"host": {"friend.example:8443"}, "policy": {"allow"}}), "/admin/federation?done=policy")
	wantRedirect(t, tc.post("/admin/federation/mode", se, url.Values{"mode": {"allowlist"}}), "/admin/federation?done=mode")
	wantStatus(t, tc.post("/admin/federation/mode", se, url.Values{"mode": {"closed"}}), http.StatusUnprocessableEntity)
	mode, policies, _ := tc.svc.FederationPolicy(ctx)
	if mode != "allowlist" || policies["bad.example"] != "block" || policies["friend.example:8443"] != "allow" {
		t.Errorf("federation policy = %s %v", mode, policies)
	}
	wantBody(t, tc.get("/admin/federation", se), `value="allowlist" checked`, "bad.example", "friend.example:8443")
	wantRedirect(t, tc.post("/admin/federation/policy", se, url.Values{"host": {"bad.example"}, "policy": {"none"}}), "/admin/federation?done=policy")
	if _, policies, _ := tc.svc.FederationPolicy(ctx); policies["bad.example"] != "" {
		t.Errorf("cleared policy is still %q", policies["bad.example"])
	}

	// A host whose deliveries fail can be retried now.
	err := tc.st.RecordHostResults(ctx, []storage.HostResult{{Host: "remote.example", At: tc.clock.now(), Error: "connection refused", Wait: tc.clock.now().Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	rec := tc.get("/admin/federation", se)
	wantBody(t, rec, "connection refused", "Retry remote.example now")
	wantBody(t, tc.get("/admin/", se), `<a href="/admin/federation">1</a>`)
	wantRedirect(t, tc.post("/admin/federation/retry", se, url.Values{"host": {"remote.example"}}), "/admin/federation?done=retried")
	if h, _ := tc.st.HostByName(ctx, "remote.example"); h.ConsecutiveFailures != 0 {
		t.Errorf("host after retry = %+v", h)
	}
}

func TestAccountsAndStewards(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()
	rec := tc.post("/admin/accounts", se, url.Values{"username": {"Ann"}, "password": {"short"}, "kind": {"steward"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "use 2 to 64 lower-case letters", "at least 10 characters", `value="Ann"`)
	if strings.Contains(rec.Body.String(), `value="short"`) {
		t.Error("the accounts page sends the password back")
	}
	wantStatus(t, tc.post("/admin/accounts", se, url.Values{"username": {"root"}, "password": {testPassword}, "kind": {"admin"}}), http.StatusConflict)
	wantRedirect(t, tc.post("/admin/accounts", se, url.Values{"username": {"ann"}, "password": {testPassword}, "kind": {"steward"}}), "/admin/accounts?done=account")

	rec = tc.post("/admin/accounts/steward", se, url.Values{"steward": {"root"}, "community": {"seeds"}, "role": {"moderator"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "an admin runs every community already")
	wantStatus(t, tc.post("/admin/accounts/steward", se, url.Values{"steward": {"ann"}, "community": {"nothing"}, "role": {"moderator"}}), http.StatusNotFound)
	wantRedirect(t, tc.post("/admin/accounts/steward", se, url.Values{"steward": {"ann"}, "community": {"seeds"}, "role": {"broker"}}), "/admin/accounts?done=steward")
	wantBody(t, tc.get("/admin/accounts", se), "(broker)", "Take seeds from ann")

	// The new steward signs in with the form and sees only seeds.
	rec = tc.loginAttempt("192.0.2.1:1", "ann", testPassword, nil)
	wantRedirect(t, rec, "/admin/")
	ann := session{token: cookieNamed(rec, "coppice_session").Value}
	rec = tc.get("/admin/communities", ann)
	wantBody(t, rec, "Seed savers")
	if strings.Contains(rec.Body.String(), "Beekeepers") || strings.Contains(rec.Body.String(), "Create a community") {
		t.Error("a steward of seeds sees bees or the create form")
	}

	wantRedirect(t, tc.post("/admin/accounts/unsteward", se, url.Values{"steward": {"ann"}, "community": {"seeds"}}), "/admin/accounts?done=unsteward")
	wantStatus(t, tc.get("/admin/communities/seeds", ann), http.StatusForbidden)
	rec = tc.post("/admin/accounts/delete", se, url.Values{"username": {"root"}})
	wantStatus(t, rec, http.StatusConflict)
	wantBody(t, rec, "you cannot delete your own account")
	wantRedirect(t, tc.post("/admin/accounts/delete", se, url.Values{"username": {"ann"}}), "/admin/accounts?done=deleted")
	wantRedirect(t, tc.get("/admin/", ann), "/admin/login")
	if _, err := tc.st.AccountByUsername(ctx, "ann"); err == nil {
		t.Error("ann's account survived its deletion")
	}
}

func TestAuditLogRecordsConsoleActions(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	tc.account("root", storage.AccountAdmin, nil)
	rec := tc.loginAttempt("192.0.2.1:1", "root", testPassword, nil)
	se := session{token: cookieNamed(rec, "coppice_session").Value}
	cs, err := tc.svc.Session(context.Background(), se.token)
	if err != nil {
		t.Fatal(err)
	}
	se.csrf = cs.Session.CSRFToken
	wantRedirect(t, tc.post("/admin/communities/seeds/members/approve", se, url.Values{"actor": {tc.ann.IRI}}), "/admin/communities/seeds/members")
	wantRedirect(t, tc.post("/admin/federation/mode", se, url.Values{"mode": {"allowlist"}}), "/admin/federation")
	log, err := tc.svc.AuditLog(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		got = append(got, e.Username+" "+e.Action+" "+e.Community+" "+e.Target+" "+e.Detail)
	}
	want := []string{"root federation mode   allowlist", "root follow approve seeds " + tc.ann.IRI + " ", "root login   "}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantBody(t, tc.get("/admin/audit", se), "follow approve", "federation mode", "login")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestReviewHeldPosts (GRP-06): the moderation page lists the posts
// waiting for approval (their HTML sanitized); a moderator of the
// community approves or rejects each from there, a steward of another
// community cannot, and malformed or repeated reviews change nothing.
func TestReviewHeldPosts(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()
	if _, err := tc.svc.UpdateSettings(ctx, "bees", community.Settings{PostingPolicy: community.PostModerators, BoostReplies: true}); err != nil {
		t.Fatal(err)
	}
	submit := func(id, content string) {
		n := community.Note{IRI: "https://remote.example/notes/" + id, Type: "Note", AuthorIRI: tc.bob.IRI, Content: content, Public: true, ToCommunity: true}
		in := community.Incoming{IRI: n.IRI + "/activity", Type: "Create", Actor: tc.bob, Raw: []byte(`{"type":"Create"}`)}
		if err := tc.svc.Submit(ctx, "bees", community.Submission{Activity: in, Note: n}); err != nil {
			t.Fatal(err)
		}
	}
	submit("1", `<p>Swarm season <script>alert(1)</script></p>`)
	submit("2", `<p>Cheap watches</p>`)
	bees, _ := tc.svc.Community(ctx, "bees")
	held, err := tc.svc.HeldPosts(ctx, bees)
	if err != nil || len(held) != 2 {
		t.Fatalf("held posts = %+v, %v", held, err)
	}
	rec := tc.get("/admin/communities/bees/moderation", se)
	wantBody(t, rec, "Waiting for approval", "Swarm season", "@bob@remote.example", "Approve and announce", "Reject")
	if strings.Contains(rec.Body.String(), "<script>alert(1)") {
		t.Error("a waiting post's HTML is shown unsanitized")
	}

	tc.account("sam", storage.AccountSteward, map[string]string{"seeds": storage.RoleModerator})
	other := tc.signIn("sam")
	wantStatus(t, tc.post("/admin/communities/bees/moderation/held", other, url.Values{"post": {itoa(held[0].ID)}, "decision": {"approve"}}), http.StatusForbidden)
	wantStatus(t, tc.post("/admin/communities/bees/moderation/held", se, url.Values{"post": {"x"}, "decision": {"approve"}}), http.StatusUnprocessableEntity)
	wantStatus(t, tc.post("/admin/communities/bees/moderation/held", se, url.Values{"post": {itoa(held[0].ID)}, "decision": {"publish"}}), http.StatusUnprocessableEntity)
	wantStatus(t, tc.post("/admin/communities/seeds/moderation/held", se, url.Values{"post": {itoa(held[0].ID)}, "decision": {"approve"}}), http.StatusNotFound)
	if _, err := tc.st.PostByIRI(ctx, held[0].NoteIRI); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused review placed the post (%v)", err)
	}

	wantRedirect(t, tc.post("/admin/communities/bees/moderation/held", se, url.Values{"post": {itoa(held[0].ID)}, "decision": {"approve"}}),
		"/admin/communities/bees/moderation?done=approved")
	if p, err := tc.st.PostByIRI(ctx, held[0].NoteIRI); err != nil || strings.Contains(p.Content, "script") {
		t.Errorf("approved post = %q, %v", p.Content, err)
	}
	wantRedirect(t, tc.post("/admin/communities/bees/moderation/held", se, url.Values{"post": {itoa(held[1].ID)}, "decision": {"reject"}}),
		"/admin/communities/bees/moderation?done=rejected")
	if _, err := tc.st.PostByIRI(ctx, held[1].NoteIRI); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the rejected post is stored (%v)", err)
	}
	wantStatus(t, tc.post("/admin/communities/bees/moderation/held", se, url.Values{"post": {itoa(held[1].ID)}, "decision": {"approve"}}), http.StatusNotFound)
	wantBody(t, tc.get("/admin/communities/bees/moderation", se), "No post is waiting", "approve post", "reject post")
}
