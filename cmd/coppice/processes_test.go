package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// front is a small load balancer: it sends each request to the process
// the test chose, or in turn to each when it chose none.
type front struct {
	srv     *httptest.Server
	mu      sync.Mutex
	targets []*url.URL
	pinned  int // 1 + the index of the chosen process; 0: in turn
	next    int
	served  []int
}

// newFront starts a balancer with no processes behind it yet (they need
// its address as their base URL first).
func newFront(t *testing.T) *front {
	t.Helper()
	f := &front{}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		f.mu.Lock()
		i := f.pinned - 1
		if i < 0 {
			f.next++
			i = f.next % len(f.targets)
		}
		f.served[i]++
		target := f.targets[i]
		f.mu.Unlock()
		r.SetURL(target)
		r.Out.Host = r.In.Host // the signatures cover the public host
	}}
	f.srv = httptest.NewServer(proxy)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *front) add(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.targets = append(f.targets, &url.URL{Scheme: "http", Host: addr})
	f.served = append(f.served, 0)
}

// use sends every request to process i; useAny, to each in turn.
func (f *front) use(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pinned = i + 1
}

func (f *front) useAny() { f.use(-1) }

func (f *front) servedBy(i int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served[i]
}

// startBehind runs `coppice serve` on db listening on addr with the
// balancer's public base URL, and waits for its /healthz.
func startBehind(t *testing.T, db, addr, base string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "serve", "--db", db, "--listen", addr, "--base-url", base, "--insecure-federation", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "COPPICE_TEST_AS_MAIN=1")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready after 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Issue 14: two serve processes on one PostgreSQL database behind a
// balancer. A remote account follows through one and posts through the
// other; its follower gets the announce once. Then one process is killed
// with SIGKILL in the middle of a fan-out to 500 followers on 100 hosts and
// never restarted: the other takes its deliveries over once their leases
// run out, and every follower gets the announce.
func TestTwoProcessesOnePostgreSQL(t *testing.T) {
	if storagetest.Engine() != "postgres" {
		t.Skip("several processes share a database on PostgreSQL only: run with COPPICE_TEST_DB=postgres (make test does)")
	}
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	ctx := context.Background()
	db := storagetest.DB(t)
	if code, _, errOut := coppice(t, "", "community", "create", "seeds", "--title", "Seeds", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	lb := newFront(t)
	base := lb.srv.URL
	addrs := []string{freeAddr(t), freeAddr(t)}
	procs := []*exec.Cmd{startBehind(t, db, addrs[0], base), startBehind(t, db, addrs[1], base)}
	for _, a := range addrs {
		lb.add(a)
	}
	community := base + "/c/seeds"
	inbox := community + "/inbox"

	// alice reads her home timeline on a Mastodon-like server; bob posts.
	home := fedtest.New(t, fedtest.Software("mastodon"))
	alice := home.NewActor("alice")
	away := fedtest.New(t, fedtest.Software("mastodon"))
	bob := away.NewActor("bob")
	lb.use(0)
	for _, a := range []*fedtest.Actor{alice, bob} {
		if code, body := a.Post(t, inbox, a.Follow(community)); code != 202 {
			t.Fatalf("Follow by %s through process 0: %d %s", a.IRI, code, body)
		}
	}
	for _, in := range []*fedtest.Instance{home, away} {
		in.Wait(t, 1, 20*time.Second, func(r fedtest.Received) bool { return r.Activity["type"] == "Accept" && r.Err == nil })
	}
	lb.use(1)
	create, noteID := createNote(bob, "1", community, "What do you sow in December?")
	if code, body := bob.Post(t, inbox, create); code != 202 {
		t.Fatalf("Create through process 1: %d %s", code, body)
	}
	announces := func() int {
		n := 0
		for _, r := range home.Received() {
			if r.Activity["type"] == "Announce" && r.Activity["object"] == noteID {
				n++
			}
		}
		return n
	}
	home.Wait(t, 1, 20*time.Second, func(r fedtest.Received) bool {
		return r.Activity["type"] == "Announce" && r.Activity["object"] == noteID && r.Err == nil
	})
	if lb.servedBy(0) == 0 || lb.servedBy(1) == 0 {
		t.Fatalf("the balancer sent %d and %d requests to the processes, want both used", lb.servedBy(0), lb.servedBy(1))
	}

	// 500 more followers on 100 hosts that take 50 ms to answer.
	const hosts, perHost = 100, 5
	st, err := storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.CommunityByName(ctx, "seeds")
	if err != nil {
		t.Fatal(err)
	}
	progress := make(chan struct{}, 1)
	var recs []*recorder
	now := time.Now()
	for h := range hosts {
		rec := newRecorder(t, fmt.Sprintf("127.0.%d.%d", 1+h/200, 10+h%200), 50*time.Millisecond, progress)
		recs = append(recs, rec)
		host := strings.TrimPrefix(rec.srv.URL, "http://")
		if err := st.SetHostSoftware(ctx, host, "mastodon", storage.FamilyMicroblog, now); err != nil {
			t.Fatal(err)
		}
		for u := range perHost {
			iri := fmt.Sprintf("%s/users/u%d", rec.srv.URL, u)
			a := storage.Actor{IRI: iri, Type: "Person", Host: host, Inbox: iri + "/inbox",
				Raw: []byte("{}"), FetchedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := st.UpsertActor(ctx, a); err != nil {
				t.Fatal(err)
			}
			if err := st.InTx(ctx, func(tx *storage.Tx) error {
				_, err := tx.UpsertFollow(ctx, storage.Follow{CommunityID: c.ID, ActorIRI: iri, FollowIRI: iri + "/follow", State: storage.FollowAccepted, CreatedAt: now})
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	total := func() (sum, inboxes int) {
		for _, r := range recs {
			r.mu.Lock()
			sum += r.total
			inboxes += len(r.got)
			r.mu.Unlock()
		}
		return sum, inboxes
	}

	lb.useAny()
	second, _ := createNote(bob, "2", community, "And in January?")
	if code, body := bob.Post(t, inbox, second); code != 202 {
		t.Fatalf("Create: %d %s", code, body)
	}
	// Kill process 0 in the middle of the fan-out, and never restart it.
	deadline := time.Now().Add(60 * time.Second)
	for n, _ := total(); n < 50; n, _ = total() {
		if time.Now().After(deadline) {
			t.Fatalf("the fan-out did not start within 60s: %d delivered", n)
		}
		<-progress
	}
	if err := procs[0].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = procs[0].Wait()
	killedAt, _ := total()
	lb.use(1) // the balancer takes the dead process out
	t.Logf("killed process 0 after %d of %d deliveries", killedAt, hosts*perHost)

	// The survivor takes over the dead process's leases (40 s) and
	// delivers the rest.
	deadline = time.Now().Add(120 * time.Second)
	for {
		sum, inboxes := total()
		if inboxes == hosts*perHost {
			t.Logf("every one of %d inboxes got the announce (%d POSTs: %d delivered twice, sent by the dead process without its outcome written)",
				inboxes, sum, sum-inboxes)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 120s %d of %d inboxes got the announce", inboxes, hosts*perHost)
		}
		select {
		case <-progress:
		case <-time.After(time.Second):
		}
	}
	if n := announces(); n != 1 {
		t.Errorf("alice's server got %d Announces of bob's first post, want exactly 1", n)
	}
	// Discovery still works through the survivor.
	res, err := http.Get(base + "/.well-known/webfinger?resource=acct:seeds@" + strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("WebFinger through the survivor: %d", res.StatusCode)
	}
}

// createNote is a public Create{Note} by a that mentions the community, as
// Mastodon sends it; it returns the activity and the note's id.
func createNote(a *fedtest.Actor, id, community, content string) ([]byte, string) {
	public := "https://www.w3.org/ns/activitystreams#Public"
	noteID := a.IRI + "/statuses/" + id
	b, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": noteID + "/activity", "type": "Create",
		"actor": a.IRI, "to": []any{public}, "cc": []any{community},
		"object": map[string]any{
			"id": noteID, "type": "Note", "attributedTo": a.IRI, "content": "<p>" + content + "</p>",
			"published": time.Now().UTC().Format(time.RFC3339), "to": []any{public}, "cc": []any{community},
			"tag": []any{map[string]any{"type": "Mention", "href": community}},
		},
	})
	return b, noteID
}
