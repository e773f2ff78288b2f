package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

func TestAccountsAndStewardships(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	seeds := storagetest.Community(t, st, "seeds")
	bees := storagetest.Community(t, st, "bees")
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

	root, err := st.CreateAdmin(ctx, storage.Admin{Username: "root", PasswordHash: "h", CreatedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := st.AccountByID(ctx, root.ID); err != nil || a.Kind != storage.AccountAdmin {
		t.Errorf("account made by CreateAdmin = %+v, %v; want kind admin", a, err)
	}
	ann, err := st.CreateAccount(ctx, storage.Account{Username: "ann", Kind: storage.AccountSteward, CreatedAt: at}, "h2")
	if err != nil {
		t.Fatal(err)
	}
	if ann.Kind != storage.AccountSteward || !ann.CreatedAt.Equal(at) {
		t.Errorf("CreateAccount = %+v, want a steward created at %v", ann, at)
	}
	if _, err := st.CreateAccount(ctx, storage.Account{Username: "ann", Kind: storage.AccountAdmin, CreatedAt: at}, "h"); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("CreateAccount with a taken username: %v, want ErrConflict", err)
	}
	if got, err := st.AdminByUsername(ctx, "ann"); err != nil || got.PasswordHash != "h2" {
		t.Errorf("AdminByUsername(ann) = %+v, %v; want the steward's hash", got, err)
	}

	for _, sh := range []storage.Stewardship{
		{AccountID: ann.ID, CommunityID: seeds.ID, Role: storage.RoleModerator},
		{AccountID: ann.ID, CommunityID: bees.ID, Role: storage.RoleModerator},
		{AccountID: ann.ID, CommunityID: bees.ID, Role: storage.RoleBroker}, // changes the role
	} {
		if err := st.SetSteward(ctx, sh, at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Stewardships(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.Stewardship{
		{AccountID: ann.ID, CommunityID: bees.ID, CommunityName: "bees", Role: storage.RoleBroker},
		{AccountID: ann.ID, CommunityID: seeds.ID, CommunityName: "seeds", Role: storage.RoleModerator},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Stewardships(ann) = %+v, want %+v", got, want)
	}
	if err := st.RemoveSteward(ctx, ann.ID, bees.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.RemoveSteward(ctx, ann.ID, bees.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("RemoveSteward twice: %v, want ErrNotFound", err)
	}
	if all, err := st.Stewardships(ctx, 0); err != nil || len(all) != 1 {
		t.Errorf("Stewardships(0) = %+v, %v; want ann's one left", all, err)
	}

	accounts, err := st.Accounts(ctx)
	if err != nil || len(accounts) != 2 || accounts[0].Username != "ann" || accounts[1].Username != "root" {
		t.Errorf("Accounts = %+v, %v; want ann and root", accounts, err)
	}
	if err := st.DeleteAccount(ctx, ann.ID); err != nil {
		t.Fatal(err)
	}
	if all, _ := st.Stewardships(ctx, 0); len(all) != 0 {
		t.Errorf("a deleted account keeps its stewardships: %+v", all)
	}
	if _, err := st.AccountByUsername(ctx, "ann"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("AccountByUsername of a deleted account: %v, want ErrNotFound", err)
	}
}

func TestSessionsExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	a, err := st.CreateAdmin(ctx, storage.Admin{Username: "root", PasswordHash: "h", CreatedAt: time.Unix(1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	se := storage.Session{TokenHash: "abc", AccountID: a.ID, CSRFToken: "csrf", CreatedAt: start, ExpiresAt: start.Add(time.Hour)}
	if err := st.CreateSession(ctx, se); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		hash string
		at   time.Time
		ok   bool
	}{
		{"the right hash before expiry", "abc", start.Add(59 * time.Minute), true},
		{"the right hash at expiry", "abc", start.Add(time.Hour), false},
		{"another hash", "abd", start, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.SessionByHash(ctx, tt.hash, tt.at)
			if tt.ok && (err != nil || got.AccountID != a.ID || got.CSRFToken != "csrf") {
				t.Errorf("SessionByHash(%q, %v) = %+v, %v; want the session", tt.hash, tt.at, got, err)
			}
			if !tt.ok && !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("SessionByHash(%q, %v) = %v, want ErrNotFound", tt.hash, tt.at, err)
			}
		})
	}
	if err := st.DeleteExpiredSessions(ctx, start.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionByHash(ctx, "abc", start); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("an expired session survived DeleteExpiredSessions: %v", err)
	}
	if err := st.DeleteSession(ctx, "gone"); err != nil {
		t.Errorf("DeleteSession of a missing session: %v, want nil", err)
	}
}

func TestAuditLogNewestFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	for i, action := range []string{"login", "community create", "follow approve"} {
		if err := st.RecordAudit(ctx, storage.AuditEntry{Username: "root", Action: action, Community: "seeds", At: time.Unix(int64(i+1), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	log, err := st.AuditLog(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0].Action != "follow approve" || log[1].Action != "community create" || !log[0].At.Equal(time.Unix(3, 0)) {
		t.Errorf("AuditLog(2) = %+v, want the two newest, newest first", log)
	}
}

func TestCommunityProfileAndArchive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	now := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := st.UpdateCommunityProfile(ctx, c.ID, storage.CommunityProfile{Title: "Seed savers", Summary: "We save seeds.", JoinMode: "approval", UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	got, err := st.CommunityByName(ctx, "seeds")
	if err != nil || got.Title != "Seed savers" || got.Summary != "We save seeds." || got.JoinMode != "approval" || !got.UpdatedAt.Equal(now) {
		t.Errorf("after UpdateCommunityProfile: %+v, %v", got, err)
	}
	if err := st.UpdateCommunityProfile(ctx, 999, storage.CommunityProfile{Title: "x", JoinMode: "open"}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UpdateCommunityProfile of a missing community: %v, want ErrNotFound", err)
	}
	if err := st.SetCommunityArchived(ctx, c.ID, now, now); err != nil {
		t.Fatal(err)
	}
	got, _ = st.CommunityByName(ctx, "seeds")
	if got.JoinMode != "invite" || got.PostingPolicy != "moderators" {
		t.Errorf("archived community: join %s, posting %s; want invite and moderators", got.JoinMode, got.PostingPolicy)
	}
	stats, err := st.CommunityStats(ctx, time.Time{})
	if err != nil || len(stats) != 1 || !stats[0].ArchivedAt.Equal(now) {
		t.Errorf("CommunityStats of an archived community = %+v, %v", stats, err)
	}
	if err := st.SetCommunityArchived(ctx, c.ID, time.Time{}, now); err != nil {
		t.Fatal(err)
	}
	stats, _ = st.CommunityStats(ctx, time.Time{})
	if !stats[0].ArchivedAt.IsZero() {
		t.Errorf("restored community still archived at %v", stats[0].ArchivedAt)
	}
}

func TestCommunityStatsCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	storagetest.Community(t, st, "bees")
	follower(t, st, c, "a.example", "ann", false)
	follower(t, st, c, "a.example", "bob", false)
	week := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	if err := st.UpsertActor(ctx, storage.Actor{IRI: "https://b.example/users/cy", Type: "Person", Host: "b.example", Inbox: "https://b.example/inbox", Raw: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		if _, err := tx.UpsertFollow(ctx, storage.Follow{CommunityID: c.ID, ActorIRI: "https://b.example/users/cy", FollowIRI: "f", State: storage.FollowPending, CreatedAt: week}); err != nil {
			return err
		}
		th, err := tx.CreateThread(ctx, storage.Thread{CommunityID: c.ID, RootIRI: "https://a.example/p/1", Title: "t", AuthorIRI: "https://a.example/users/ann", CreatedAt: week})
		if err != nil {
			return err
		}
		for i, at := range []time.Time{week.Add(-time.Hour), week, week.Add(time.Hour)} {
			if _, err := tx.CreatePost(ctx, storage.Post{IRI: "https://a.example/p/" + string(rune('1'+i)), ThreadID: th.ID, CommunityID: c.ID, Type: "Note",
				AuthorIRI: "https://a.example/users/ann", Published: at, Raw: []byte("{}")}); err != nil {
				return err
			}
		}
		_, err = tx.CreateReport(ctx, storage.Report{CommunityID: c.ID, IRI: "https://a.example/flag/1", ReporterIRI: "https://a.example/users/bob", CreatedAt: week})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := st.CommunityStats(ctx, week)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 2 || stats[0].Name != "bees" {
		t.Fatalf("CommunityStats = %+v, want bees and seeds by name", stats)
	}
	got := stats[1]
	if got.Members != 2 || got.Pending != 1 || got.RecentPosts != 2 || got.OpenReports != 1 {
		t.Errorf("seeds stats = %+v, want 2 members, 1 pending, 2 recent posts, 1 open report", got)
	}
}

func TestKnownHostsAndRetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	follower(t, st, c, "up.example", "ann", false)
	follower(t, st, c, "down.example", "bob", false)
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	err := st.RecordHostResults(ctx, []storage.HostResult{
		{Host: "up.example", At: now, OK: true},
		{Host: "down.example", At: now, Error: "connection refused", Wait: now.Add(time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.InTx(ctx, func(tx *storage.Tx) error {
		id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: "https://coppice.example/a/1", CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte("{}"), CreatedAt: now})
		if err != nil {
			return err
		}
		return tx.EnqueueDelivery(ctx, id, "https://down.example/users/bob/inbox", now.Add(time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := st.KnownHosts(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 2 || hosts[0].Health.Host != "down.example" || hosts[0].Health.ConsecutiveFailures != 1 || hosts[0].Queued != 1 ||
		hosts[0].Actors != 1 || hosts[1].Health.Host != "up.example" || !hosts[1].Health.LastSuccessAt.Equal(now) {
		t.Errorf("KnownHosts = %+v, want down.example (failing, 1 queued) then up.example", hosts)
	}
	if n, err := st.CountFailingHosts(ctx); err != nil || n != 1 {
		t.Errorf("CountFailingHosts = %d, %v; want 1", n, err)
	}
	later := now.Add(time.Minute)
	if n, err := st.RetryHost(ctx, "down.example", later); err != nil || n != 1 {
		t.Errorf("RetryHost = %d, %v; want 1 delivery due", n, err)
	}
	h, err := st.HostByName(ctx, "down.example")
	if err != nil || h.ConsecutiveFailures != 0 || !h.RetryAfterUntil.IsZero() {
		t.Errorf("host after RetryHost = %+v, %v; want its failures cleared", h, err)
	}
	ds, err := st.ClaimDeliveries(ctx, later, time.Minute, 4, 10)
	if err != nil || len(ds) != 1 {
		t.Errorf("ClaimDeliveries after RetryHost = %+v, %v; want the retried delivery", ds, err)
	}
}

func TestBansLatestFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		if err := tx.Ban(ctx, c.ID, "https://a.example/users/ann", "spam", "root", time.Unix(1, 0)); err != nil {
			return err
		}
		return tx.Ban(ctx, c.ID, "https://a.example/users/bob", "", "root", time.Unix(2, 0))
	})
	if err != nil {
		t.Fatal(err)
	}
	bans, err := st.Bans(ctx, c.ID, 10)
	if err != nil || len(bans) != 2 || bans[0].ActorIRI != "https://a.example/users/bob" || bans[1].Reason != "spam" {
		t.Errorf("Bans = %+v, %v; want bob then ann (spam)", bans, err)
	}
}
