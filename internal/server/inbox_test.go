package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/server"
	"github.com/coppice-dev/coppice/storage"
)

const wait = 15 * time.Second

// counts returns the rows of every federation table.
func counts(t *testing.T, st *storage.Store) map[string]int {
	t.Helper()
	c, err := st.RowCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// stored returns the rows of every federation table but the delivery
// queue's (deliveries, fan-outs, hosts), which the worker changes on its
// own while earlier activities (a member's Accept, a post's Announces)
// leave: what a refused activity must not change.
func stored(t *testing.T, st *storage.Store) map[string]int {
	t.Helper()
	c := counts(t, st)
	for _, k := range []string{"deliveries", "fan_outs", "hosts"} {
		delete(c, k)
	}
	return c
}

// isAccept matches an Accept whose embedded Follow has the given id.
func isActivity(typ, followID string) func(fedtest.Received) bool {
	return func(r fedtest.Received) bool {
		obj, _ := r.Activity["object"].(map[string]any)
		return r.Activity["type"] == typ && obj["id"] == followID
	}
}

func followID(t testing.TB, follow []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(follow, &m); err != nil {
		t.Fatal(err)
	}
	return m["id"].(string)
}

func TestFollowIsAcceptedAndSigned(t *testing.T) {
	ti := newInstance(t, true)
	peer := fedtest.New(t)
	alice := peer.NewActor("alice")
	follow := alice.Follow(ti.actor("seedbreeders"))

	if code, body := alice.Post(t, ti.inbox("seedbreeders"), follow); code != http.StatusAccepted {
		t.Fatalf("Follow: %d %s, want 202", code, body)
	}
	got := peer.Wait(t, 1, wait, isActivity("Accept", followID(t, follow)))
	acc := got[0]
	if acc.Err != nil {
		t.Fatalf("Accept signature does not verify at the peer: %v", acc.Err)
	}
	if acc.KeyID != ti.actor("seedbreeders")+"#main-key" || acc.Activity["actor"] != ti.actor("seedbreeders") {
		t.Errorf("Accept signed by %s as %v, want the community's key", acc.KeyID, acc.Activity["actor"])
	}
	if acc.Path != "/users/alice/inbox" {
		t.Errorf("Accept went to %s, want alice's inbox", acc.Path)
	}
	for _, h := range []string{"Digest", "Date", "Signature"} {
		if acc.Header.Get(h) == "" {
			t.Errorf("Accept has no %s header", h)
		}
	}
	if !strings.Contains(acc.Header.Get("Signature"), `headers="(request-target) host date digest content-type"`) {
		t.Errorf("Signature header = %s", acc.Header.Get("Signature"))
	}
	res, body := get(t, ti.actor("seedbreeders")+"/followers?page=1", "application/activity+json")
	page := decode(t, body)
	items, _ := page["orderedItems"].([]any)
	if res.StatusCode != 200 || page["totalItems"] != float64(1) || len(items) != 1 || items[0] != alice.IRI {
		t.Errorf("followers page = %v", page)
	}

	// GRP-16 / SIG-09: the same Follow again is a no-op; a new Follow by
	// the same actor gets a fresh Accept but no second follower.
	before := counts(t, ti.store)
	if code, _ := alice.Post(t, ti.inbox("seedbreeders"), follow); code != http.StatusAccepted {
		t.Errorf("replayed Follow: %d, want 202", code)
	}
	if after := counts(t, ti.store); after["inbox_activities"] != before["inbox_activities"] || after["outbox_activities"] != before["outbox_activities"] {
		t.Errorf("replayed Follow changed rows: %v → %v", before, after)
	}
	again := alice.Follow(ti.actor("seedbreeders"))
	if code, _ := alice.Post(t, ti.sharedInbox(), again); code != http.StatusAccepted {
		t.Errorf("second Follow through the shared inbox: %d", code)
	}
	peer.Wait(t, 1, wait, isActivity("Accept", followID(t, again)))
	if n := counts(t, ti.store)["follows"]; n != 1 {
		t.Errorf("follows = %d after two Follows, want 1", n)
	}

	// Undo{Follow} by someone else is refused (GRP-12); by alice it works.
	mallory := peer.NewActor("mallory")
	var undo map[string]any
	_ = json.Unmarshal(alice.UndoFollow(follow), &undo)
	undo["actor"] = mallory.IRI
	undo["id"] = mallory.IRI + "/undo/1"
	forged, _ := json.Marshal(undo)
	if code, _ := mallory.Post(t, ti.inbox("seedbreeders"), forged); code != http.StatusForbidden {
		t.Errorf("Undo of alice's Follow by mallory: %d, want 403", code)
	}
	if code, _ := alice.Post(t, ti.inbox("seedbreeders"), alice.UndoFollow(follow)); code != http.StatusAccepted {
		t.Errorf("Undo Follow: %d", code)
	}
	if n := counts(t, ti.store)["follows"]; n != 0 {
		t.Errorf("follows = %d after Undo, want 0", n)
	}
}

func TestFollowNeedsApproval(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	if _, err := ti.svc.CreateCommunity(ctx, community.NewCommunity{Name: "closed", Title: "Closed", JoinMode: "approval"}); err != nil {
		t.Fatal(err)
	}
	peer := fedtest.New(t)
	bob, carol := peer.NewActor("bob"), peer.NewActor("carol")
	fb, fc := bob.Follow(ti.actor("closed")), carol.Follow(ti.actor("closed"))
	for _, p := range []struct {
		a *fedtest.Actor
		f []byte
	}{{bob, fb}, {carol, fc}} {
		if code, body := p.a.Post(t, ti.inbox("closed"), p.f); code != http.StatusAccepted {
			t.Fatalf("Follow: %d %s", code, body)
		}
	}
	pending, err := ti.svc.PendingFollows(ctx, "closed")
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending = %v, %v; want bob and carol", pending, err)
	}
	if c := counts(t, ti.store); c["outbox_activities"] != 0 {
		t.Errorf("a request in approval mode sent something: %v", c)
	}
	if err := ti.svc.ApproveFollow(ctx, community.Operator("test"), "closed", bob.IRI); err != nil {
		t.Fatal(err)
	}
	if err := ti.svc.RejectFollow(ctx, community.Operator("test"), "closed", carol.IRI); err != nil {
		t.Fatal(err)
	}
	peer.Wait(t, 1, wait, isActivity("Accept", followID(t, fb)))
	rej := peer.Wait(t, 1, wait, isActivity("Reject", followID(t, fc)))
	if rej[0].Err != nil || rej[0].Path != "/users/carol/inbox" {
		t.Errorf("Reject: %v at %s", rej[0].Err, rej[0].Path)
	}
	total, iris, err := ti.svc.Followers(ctx, mustCommunity(t, ti, "closed"), 0, 10)
	if err != nil || total != 1 || len(iris) != 1 || iris[0] != bob.IRI {
		t.Errorf("followers = %d %v %v, want bob only", total, iris, err)
	}
	// The decisions are in the audit log, written with them (issue 11: the
	// command line's approve wrote none).
	log, err := ti.svc.AuditLog(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, e := range log {
		if e.Username == "cli:test" && e.Community == "closed" {
			seen = append(seen, e.Action+" "+e.Target)
		}
	}
	if len(seen) != 2 {
		t.Errorf("audit log = %v, want the approval of bob and the rejection of carol by cli:test", seen)
	}
	// A member who is no moderator may not decide.
	dave := peer.NewActor("dave")
	if code, body := dave.Post(t, ti.inbox("closed"), dave.Follow(ti.actor("closed"))); code != http.StatusAccepted {
		t.Fatalf("Follow: %d %s", code, body)
	}
	if err := ti.svc.ApproveFollow(ctx, community.Member(bob.IRI), "closed", dave.IRI); !errors.Is(err, community.ErrForbidden) {
		t.Errorf("approval by a member = %v, want forbidden", err)
	}
}

func mustCommunity(t testing.TB, ti *testInstance, name string) storage.Community {
	t.Helper()
	c, err := ti.svc.Community(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestInboxRejectsHostileInput sends each hostile request of SECURITY.md to
// the inbox and checks the status and that nothing was stored.
func TestInboxRejectsHostileInput(t *testing.T) {
	ti := newInstance(t, true)
	peer := fedtest.New(t)
	other := fedtest.New(t, fedtest.OnAddress("127.0.0.2"))
	alice := peer.NewActor("alice")
	eve := other.NewActor("eve")
	target := ti.inbox("seedbreeders")
	follow := func() []byte { return alice.Follow(ti.actor("seedbreeders")) }

	htmlActor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>an actor, honest</html>"))
	}))
	t.Cleanup(htmlActor.Close)

	tests := []struct {
		name   string
		send   func() (int, string)
		status int
	}{
		{"SIG-01 unsigned POST", func() (int, string) {
			return postRaw(t, target, follow(), nil)
		}, 401},
		{"SIG-05 body changed after signing", func() (int, string) {
			return alice.PostWith(t, target, follow(), func(r *http.Request, b *[]byte) {
				*b = bytes.Replace(*b, []byte("follows"), []byte("fallows"), 1)
			})
		}, 401},
		{"SIG-04 digest header missing", func() (int, string) {
			return alice.PostWith(t, target, follow(), func(r *http.Request, b *[]byte) { r.Header.Del("Digest") })
		}, 401},
		{"SIG-06 digest mismatch", func() (int, string) {
			return alice.PostWith(t, target, follow(), func(r *http.Request, b *[]byte) {
				r.Header.Set("Digest", "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
			})
		}, 401},
		{"SIG-08a Date 13 hours old", func() (int, string) {
			return postSignedAt(t, alice, target, follow(), time.Now().Add(-13*time.Hour))
		}, 401},
		{"SIG-08a Date 2 hours ahead", func() (int, string) {
			return postSignedAt(t, alice, target, follow(), time.Now().Add(2*time.Hour))
		}, 401},
		{"SIG-11 signed for another path", func() (int, string) {
			req, err := alice.SignedRequest(ti.sharedInbox(), follow(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			req.URL.Path = "/c/seedbreeders/inbox"
			return do(t, req)
		}, 401},
		{"SIG-13 key owner is not the actor", func() (int, string) {
			var m map[string]any
			_ = json.Unmarshal(follow(), &m)
			m["id"] = eve.IRI + "/follows/x" // eve signs alice's Follow with her own valid key
			b, _ := json.Marshal(m)
			return eve.Post(t, target, b)
		}, 401},
		{"unknown key", func() (int, string) {
			ghost := &fedtest.Actor{}
			*ghost = *alice
			ghost.KeyID = peer.URL + "/users/ghost#main-key"
			return ghost.Post(t, target, follow())
		}, 401},
		{"FET key document is HTML", func() (int, string) {
			fake := *alice
			fake.KeyID = htmlActor.URL + "/users/alice#main-key"
			return fake.Post(t, target, follow())
		}, 401},
		{"SIG-17 content type text/html", func() (int, string) {
			return alice.PostWith(t, target, follow(), func(r *http.Request, b *[]byte) { r.Header.Set("Content-Type", "text/html") })
		}, 415},
		{"PAR-01 malformed JSON", func() (int, string) {
			return alice.Post(t, target, []byte(`{"type":"Follow",`))
		}, 400},
		{"PAR-01 duplicate actor key", func() (int, string) {
			b := []byte(`{"id":"` + alice.IRI + `/f/9","type":"Follow","actor":"` + eve.IRI + `","actor":"` + alice.IRI + `","object":"` + ti.actor("seedbreeders") + `"}`)
			return alice.Post(t, target, b)
		}, 400},
		{"PAR-02 actor array", func() (int, string) {
			b := []byte(`{"id":"` + alice.IRI + `/f/8","type":"Follow","actor":["` + alice.IRI + `","` + eve.IRI + `"],"object":"` + ti.actor("seedbreeders") + `"}`)
			return alice.Post(t, target, b)
		}, 400},
		{"PAR-03 type array", func() (int, string) {
			var m map[string]any
			_ = json.Unmarshal(note(alice, "par03", ti.actor("seedbreeders"), "", "<p>hi</p>", true, true), &m)
			m["type"] = []any{"Create", "Announce"}
			b, _ := json.Marshal(m)
			return alice.Post(t, target, b)
		}, 400},
		{"PAR-04 Create of two Notes", func() (int, string) {
			var m, n1, n2 map[string]any
			_ = json.Unmarshal(note(alice, "par04", ti.actor("seedbreeders"), "", "<p>hi</p>", true, true), &m)
			_ = json.Unmarshal(noteObject(t, note(alice, "par04a", ti.actor("seedbreeders"), "", "<p>one</p>", true, true)), &n1)
			_ = json.Unmarshal(noteObject(t, note(alice, "par04b", ti.actor("seedbreeders"), "", "<p>two</p>", true, true)), &n2)
			m["object"] = []any{n1, n2}
			b, _ := json.Marshal(m)
			return alice.Post(t, target, b)
		}, 400},
		{"JSON that is not an activity", func() (int, string) {
			return alice.Post(t, target, []byte(`{"hello":"world"}`))
		}, 400},
		{"ORI-03 activity id on another host", func() (int, string) {
			var m map[string]any
			_ = json.Unmarshal(follow(), &m)
			m["id"] = "http://127.0.0.9:1/follows/evil"
			b, _ := json.Marshal(m)
			return alice.Post(t, target, b)
		}, 403},
		{"PAR-08 body over 1 MiB", func() (int, string) {
			var m map[string]any
			_ = json.Unmarshal(follow(), &m)
			m["padding"] = strings.Repeat("x", 1<<20)
			b, _ := json.Marshal(m)
			return alice.Post(t, target, b)
		}, 413},
		{"PAR-09 gzip-encoded body", func() (int, string) {
			return alice.PostWith(t, target, follow(), func(r *http.Request, b *[]byte) { r.Header.Set("Content-Encoding", "gzip") })
		}, 415},
		{"Follow of a community that does not exist", func() (int, string) {
			return alice.Post(t, ti.sharedInbox(), alice.Follow(ti.actor("nobody")))
		}, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := counts(t, ti.store)
			delete(before, "actors") // a key fetch may cache the signer
			code, body := tt.send()
			if code != tt.status {
				t.Errorf("status %d (%s), want %d", code, strings.TrimSpace(body), tt.status)
			}
			if !strings.Contains(body, `"error"`) {
				t.Errorf("body %q has no error reason", body)
			}
			after := counts(t, ti.store)
			delete(after, "actors")
			for k, v := range before {
				if after[k] != v {
					t.Errorf("%s went from %d to %d", k, v, after[k])
				}
			}
		})
	}
}

// TestInboxRefusesPrivateKeyHosts runs an instance without
// --insecure-federation: a key on a loopback address is never fetched
// (FET-01), and the peer gets a plain 401 that does not say why (SIG-22).
func TestInboxRefusesPrivateKeyHosts(t *testing.T) {
	ti := newInstance(t, false)
	peer := fedtest.New(t)
	alice := peer.NewActor("alice")
	code, body := alice.Post(t, ti.inbox("seedbreeders"), alice.Follow(ti.actor("seedbreeders")))
	if code != 401 || strings.Contains(body, "forbidden") || strings.Contains(body, "127.0.0.1") {
		t.Errorf("Follow signed with a key on 127.0.0.1: %d %s, want a 401 that names nothing", code, body)
	}
	for _, r := range peer.Received() {
		t.Errorf("peer got a request: %s", r.Path)
	}
}

func postSignedAt(t *testing.T, a *fedtest.Actor, inbox string, body []byte, at time.Time) (int, string) {
	t.Helper()
	req, err := a.SignedRequest(inbox, body, at)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func postRaw(t *testing.T, inbox string, body []byte, hdr http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/activity+json")
	for k, v := range hdr {
		req.Header[k] = v
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	return res.StatusCode, buf.String()
}

// TestSIG15KeyRotation: after a peer rotates its key, the cached key fails,
// the key is fetched once more and the activity is accepted; a signature
// that fails with the fresh key too does not make us fetch again within a
// minute.
func TestSIG15KeyRotation(t *testing.T) {
	ti := newInstance(t, true)
	peer := fedtest.New(t)
	alice := peer.NewActor("alice")
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), alice.Follow(ti.actor("seedbreeders"))); code != 202 {
		t.Fatalf("first Follow: %d %s", code, body)
	}
	fetches := peer.Gets("/users/alice")
	peer.RotateKey(t)
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), alice.Follow(ti.actor("seedbreeders"))); code != 202 {
		t.Fatalf("Follow signed with the rotated key: %d %s", code, body)
	}
	if got := peer.Gets("/users/alice") - fetches; got != 1 {
		t.Errorf("key fetched %d times after rotation, want 1", got)
	}
	fetches = peer.Gets("/users/alice")
	// Change the first character of the signature value: still base64,
	// no longer a valid signature.
	bogus := func(r *http.Request, b *[]byte) {
		sig := r.Header.Get("Signature")
		i := strings.Index(sig, `signature="`) + len(`signature="`)
		c := byte('A')
		if sig[i] == 'A' {
			c = 'B'
		}
		r.Header.Set("Signature", sig[:i]+string(c)+sig[i+1:])
	}
	for i := 0; i < 3; i++ {
		if code, _ := alice.PostWith(t, ti.inbox("seedbreeders"), alice.Follow(ti.actor("seedbreeders")), bogus); code != 401 {
			t.Errorf("bogus signature %d: %d, want 401", i, code)
		}
	}
	if got := peer.Gets("/users/alice") - fetches; got > 1 {
		t.Errorf("bogus signatures caused %d key fetches, want at most 1", got)
	}
}

// TestRAT03InboxConcurrencyLimit: while the inbox is at its limit (here 1,
// held by a request whose key fetch hangs), the next request gets 503 with
// Retry-After instead of piling up.
func TestRAT03InboxConcurrencyLimit(t *testing.T) {
	ti := newInstance(t, true, func(o *server.Options) { o.InboxConcurrency = 1 })
	peer := fedtest.New(t)
	alice := peer.NewActor("alice")
	fetching, release := make(chan struct{}), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(fetching)
		<-release
		http.NotFound(w, r)
	}))
	t.Cleanup(slow.Close)
	stuck := *alice
	stuck.KeyID = slow.URL + "/users/stuck#main-key"
	done := make(chan int, 1)
	go func() {
		req, err := stuck.SignedRequest(ti.inbox("seedbreeders"), alice.Follow(ti.actor("seedbreeders")), time.Now())
		if err != nil {
			done <- 0
			return
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	select {
	case <-fetching:
	case <-time.After(wait):
		t.Fatal("the first request never fetched its key")
	}
	req, err := alice.SignedRequest(ti.inbox("seedbreeders"), alice.Follow(ti.actor("seedbreeders")), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Errorf("request beyond the limit: %d Retry-After %q, want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	close(release)
	if code := <-done; code != 401 {
		t.Errorf("request with the unfetchable key: %d, want 401", code)
	}
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), alice.Follow(ti.actor("seedbreeders"))); code != 202 {
		t.Errorf("after the slot is free: %d %s, want 202", code, body)
	}
}

// TestStaleKeyWhenKeyHostIsDown: when a cached key has expired and its host
// answers 503, the stale key still verifies the peer's request (FLT-16 asks
// for 503 only when we have nothing to verify with).
func TestStaleKeyWhenKeyHostIsDown(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	alice, bob := peer.NewActor("alice"), peer.NewActor("bob")
	member(t, ti, peer, alice)
	a, err := ti.store.ActorByIRI(ctx, alice.IRI)
	if err != nil {
		t.Fatal(err)
	}
	a.ExpiresAt = time.Now().Add(-time.Minute)
	if err := ti.store.UpsertActor(ctx, a); err != nil {
		t.Fatal(err)
	}
	peer.Down(true)
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), alice.Follow(ti.actor("seedbreeders"))); code != 202 {
		t.Errorf("Follow with an expired key while its host is down: %d %s, want 202 with the stale key", code, body)
	}
	if code, _ := bob.Post(t, ti.inbox("seedbreeders"), bob.Follow(ti.actor("seedbreeders"))); code != 503 {
		t.Errorf("Follow by an unknown actor whose host is down: %d, want 503 (FLT-16)", code)
	}
}

// TestFLT06UnreachableHostRevivedByItsOwnRequest: a host marked unreachable
// gets no new deliveries; once it sends a valid signed request it is
// revived.
func TestFLT06UnreachableHostRevivedByItsOwnRequest(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	alice := peer.NewActor("alice")
	member(t, ti, peer, alice)
	// The worker writes the Accept's success after the peer has it, in
	// its own batch: wait for it, or it would clear the failures below.
	deadline, tick := time.NewTimer(10*time.Second), time.NewTicker(10*time.Millisecond)
	defer deadline.Stop()
	defer tick.Stop()
	for h, err := ti.store.HostByName(ctx, peer.Host); err != nil || h.LastSuccessAt.IsZero(); h, err = ti.store.HostByName(ctx, peer.Host) {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("the Accept's success was not recorded: %+v %v", h, err)
		}
	}
	now := time.Now()
	if err := ti.store.RecordHostResults(ctx, []storage.HostResult{{Host: peer.Host, At: now.Add(-8 * 24 * time.Hour), Error: "refused"}}); err != nil {
		t.Fatal(err)
	}
	if err := ti.store.RecordHostResults(ctx, []storage.HostResult{{Host: peer.Host, At: now, Error: "refused", GiveUp: 7 * 24 * time.Hour, MaxFail: 2}}); err != nil {
		t.Fatal(err)
	}
	if h, err := ti.store.HostByName(ctx, peer.Host); err != nil || !h.Unreachable {
		t.Fatalf("host not marked unreachable: %+v %v", h, err)
	}
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ti.actor("seedbreeders"), "", "back online", true, true)); code != 202 {
		t.Fatalf("post from the revived host: %d %s", code, body)
	}
	if h, _ := ti.store.HostByName(ctx, peer.Host); h.Unreachable {
		t.Errorf("host still unreachable after its valid signed request")
	}
}

// TestPAR05RemoteContextIsNeverFetched: a member's post whose activity and
// object name an @context on another host is taken (202) and that context
// is never fetched: no JSON-LD processing reaches out for it.
func TestPAR05RemoteContextIsNeverFetched(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	evil := fedtest.New(t, fedtest.OnAddress("127.0.0.9"))
	evil.Serve("/ctx.jsonld", []byte(`{"@context":{"content":"https://evil.example/ns#stolen"}}`))
	alice := peer.NewActor("alice")
	member(t, ti, peer, alice)
	remote := []any{"https://www.w3.org/ns/activitystreams", evil.URL + "/ctx.jsonld"}
	var m map[string]any
	if err := json.Unmarshal(note(alice, "par05", ti.actor("seedbreeders"), "", "<p>hello</p>", true, true), &m); err != nil {
		t.Fatal(err)
	}
	m["@context"] = remote
	m["object"].(map[string]any)["@context"] = remote
	body, _ := json.Marshal(m)
	if code, resp := alice.Post(t, ti.inbox("seedbreeders"), body); code != 202 {
		t.Fatalf("post with a remote @context: %d %s, want 202", code, resp)
	}
	if _, err := ti.store.PostByIRI(ctx, alice.IRI+"/notes/par05"); err != nil {
		t.Errorf("the post was not stored: %v", err)
	}
	if n := evil.Gets("/ctx.jsonld"); n != 0 {
		t.Errorf("the remote @context was fetched %d times", n)
	}
	for _, r := range evil.Received() {
		t.Errorf("the context's host got a request: %s", r.Path)
	}
}

// TestPAR07HostileText: a member's post carrying invalid UTF-8, an escaped
// NUL, a number past float64 and a 200 KB word is answered (202 or 400,
// never a crash), and what is stored is valid UTF-8 without NUL bytes.
func TestPAR07HostileText(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	alice := peer.NewActor("alice")
	member(t, ti, peer, alice)
	for i, content := range []string{
		"<p>bytes \xff\xfe\xc3 in the middle</p>",
		"<p>a NUL \\u0000 here</p>",
		"<p>" + strings.Repeat("w", 200_000) + "</p>",
	} {
		id := fmt.Sprint("par07-", i)
		create := note(alice, id, ti.actor("seedbreeders"), "", "CONTENT", true, true)
		c, _ := json.Marshal("CONTENT")
		raw := bytes.Replace(create, c, []byte(`"`+content+`"`), 1)
		raw = bytes.Replace(raw, []byte(`"type":"Create"`), []byte(`"type":"Create","sensitive":1e400`), 1)
		code, body := alice.Post(t, ti.inbox("seedbreeders"), raw)
		t.Logf("post %d: %d %s", i, code, strings.TrimSpace(body))
		if code != 202 && code != 400 {
			t.Errorf("post %d: %d %s, want 202 or 400", i, code, body)
			continue
		}
		p, err := ti.store.PostByIRI(ctx, alice.IRI+"/notes/"+id)
		if code == 400 {
			if err == nil {
				t.Errorf("post %d refused with 400 but stored", i)
			}
			continue
		}
		if err != nil {
			t.Fatalf("post %d accepted but not stored: %v", i, err)
		}
		if !utf8.ValidString(p.Content) || strings.ContainsRune(p.Content, 0) || !utf8.ValidString(p.Name) {
			t.Errorf("post %d stored as %q: not valid UTF-8 or holds NUL", i, truncateForLog(p.Content))
		}
	}
}

func truncateForLog(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
