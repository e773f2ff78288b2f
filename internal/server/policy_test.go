package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fedtest"
)

// TestBlockBypassBySpelling (ORI-10, issue 12 item 2): a block written the way an
// admin writes it covers every spelling of the host that reaches it: its
// ports, upper case, a trailing dot, a default port, Unicode look-alikes
// and its subdomains. Each is refused with 403 before any key fetch.
func TestBlockBypassBySpelling(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.12"))
	s := peer.NewActor("s")
	// The admin blocks the address without the port the peer listens on.
	if err := ti.svc.SetDomainPolicy(ctx, "127.0.0.12", "block"); err != nil {
		t.Fatal(err)
	}
	if code, body := s.Post(t, ti.inbox("seedbreeders"), s.Follow(ti.actor("seedbreeders"))); code != http.StatusForbidden {
		t.Errorf("Follow from a blocked host on another port: %d %s, want 403", code, body)
	}
	if n := peer.Gets("/users/s"); n != 0 {
		t.Errorf("blocked host's key fetched %d times, want 0", n)
	}

	if err := ti.svc.SetDomainPolicy(ctx, "GTS.test", "block"); err != nil {
		t.Fatal(err)
	}
	for _, keyID := range []string{
		"http://gts.test:80/users/s#main-key", "http://GTS.TEST/users/s#main-key", "http://gts.test./users/s#main-key",
		"http://ｇｔｓ.test/users/s#main-key", "http://a.gts.test/users/s#main-key", "http://b.a.gts.test:8080/users/s#main-key",
	} {
		spelled := *s
		spelled.KeyID = keyID
		code, body := spelled.Post(t, ti.inbox("seedbreeders"), s.Follow(ti.actor("seedbreeders")))
		if code != http.StatusForbidden {
			t.Errorf("keyId %s with gts.test blocked: %d %s, want 403", keyID, code, body)
		}
	}
	if n := counts(t, ti.store)["follows"]; n != 0 {
		t.Errorf("follows = %d, want 0", n)
	}
}

// TestSilenceAndRejectMediaBySpelling (ORI-10, issue 12 item 2): silence and
// reject_media on a host as the admin writes it apply to the peer on any
// port of it.
func TestSilenceAndRejectMediaBySpelling(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.13"))
	alice := peer.NewActor("alice")
	member(t, ti, peer, alice)
	ours := ti.actor("seedbreeders")
	if err := ti.svc.SetDomainPolicy(ctx, "127.0.0.13", "silence"); err != nil {
		t.Fatal(err)
	}
	before := counts(t, ti.store)["outbox_activities"]
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ours, "", "quiet please", true, true)); code != 202 {
		t.Fatalf("silenced post: %d %s", code, body)
	}
	if after := counts(t, ti.store)["outbox_activities"]; after != before {
		t.Errorf("post of a silenced host announced (%d → %d activities)", before, after)
	}
	if err := ti.svc.SetDomainPolicy(ctx, "127.0.0.13", "reject_media"); err != nil {
		t.Fatal(err)
	}
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "2", ours, "", `<p>look <img src="https://img.example/x.png" alt="x"></p>`, true, true)); code != 202 {
		t.Fatalf("post with an image: %d %s", code, body)
	}
	if p, err := ti.store.PostByIRI(ctx, alice.IRI+"/notes/2"); err != nil || strings.Contains(p.Content, "<img") {
		t.Errorf("reject_media on the host without port: content %q, %v; want no image", p.Content, err)
	}
}

// TestFET13AcceptNotDeliveredToBlockedThirdHost (issue 12, item 3): an
// actor on an allowed host that names an inbox on a blocked host gets its
// Follow answered, but the Accept is never sent there.
func TestFET13AcceptNotDeliveredToBlockedThirdHost(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.14"))
	third := fedtest.New(t, fedtest.OnAddress("127.0.0.15"))
	if err := ti.svc.SetDomainPolicy(ctx, "127.0.0.15", "block"); err != nil {
		t.Fatal(err)
	}
	alice := peer.NewActor("alice")
	alice.Inbox = third.URL + "/users/victim/inbox"
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), alice.Follow(ti.actor("seedbreeders"))); code != http.StatusAccepted {
		t.Fatalf("Follow: %d %s", code, body)
	}
	waitFor(t, "the Accept to fail", func() bool {
		_, failed, err := ti.store.QueueStats(ctx)
		return err == nil && failed == 1
	})
	if got := third.Received(); len(got) != 0 {
		t.Errorf("blocked host received %d deliveries, want 0", len(got))
	}
}

// waitFor polls cond until it holds, or fails the test after wait. It is
// for state that no channel announces (the delivery queue in the database).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("waited %v for %s", wait, what)
		}
	}
}
