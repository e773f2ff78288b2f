package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// syncBuffer is a bytes.Buffer a subprocess writes to while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveProcess runs `coppice serve` on db and addr as a subprocess with
// the extra flags, its standard error into logs, and waits for /healthz.
func serveProcess(t *testing.T, db, addr string, logs io.Writer, extra ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--db", db, "--listen", addr, "--base-url", "http://" + addr, "--insecure-federation"}, extra...)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "COPPICE_TEST_AS_MAIN=1")
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	waitUntil(t, "serve answers /healthz", 30*time.Second, func() bool {
		res, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	return cmd
}

// waitUntil polls cond every 20ms until it holds, failing the test after
// timeout. It waits for another process, which cannot signal us.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("waited %v for %s", timeout, what)
		}
	}
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %v", res.StatusCode, err)
	}
	return string(b)
}

// sample returns the value of one series, written exactly as the text
// exposition writes it (labels sorted by name), and whether it is there.
func sample(exposition, series string) (float64, bool) {
	for _, line := range strings.Split(exposition, "\n") {
		rest, ok := strings.CutPrefix(line, series+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		return v, err == nil
	}
	return 0, false
}

// logLines decodes the JSON log lines of a process.
func logLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("log line is not JSON: %q", sc.Text())
			continue
		}
		out = append(out, m)
	}
	return out
}

// TestMetricsUnderRealTraffic runs the real server with --metrics-listen
// and --log-format json, sends it signed activities from a fake Mastodon
// instance, and checks the exposition with Prometheus's promtool, that the
// counters moved by what was sent, and the access and error log lines.
func TestMetricsUnderRealTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (.ci/run does)")
	}
	db := storagetest.DB(t)
	if code, _, errOut := coppice(t, "", "community", "create", "seeds", "--title", "Seeds", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	addr, maddr := freeAddr(t), freeAddr(t)
	base := "http://" + addr
	var logs syncBuffer
	serveProcess(t, db, addr, &logs, "--metrics-listen", maddr, "--log-format", "json")

	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the public listener: %d, want 404 (metrics are on --metrics-listen only)", res.StatusCode)
	}
	before := scrape(t, maddr)

	peer := fedtest.New(t)
	alice := peer.NewActor("alice")
	follow := alice.Follow(base + "/c/seeds")
	if code, body := alice.Post(t, base+"/c/seeds/inbox", follow); code != 202 {
		t.Fatalf("Follow: %d %s", code, body)
	}
	peer.Wait(t, 1, 30*time.Second, func(r fedtest.Received) bool { return r.Activity["type"] == "Accept" })
	// A body changed after signing: its digest does not match.
	code, _ := alice.PostWith(t, base+"/c/seeds/inbox", follow, func(_ *http.Request, body *[]byte) {
		*body = bytes.Replace(*body, []byte("Follow"), []byte("Folloz"), 1)
	})
	if code != 401 {
		t.Fatalf("tampered Follow: %d, want 401", code)
	}
	// The key is cached now.
	if code, body := alice.Post(t, base+"/c/seeds/inbox", alice.UndoFollow(follow)); code != 202 {
		t.Fatalf("Undo: %d %s", code, body)
	}

	var after string
	moved := func(series string, by float64) bool {
		b, _ := sample(before, series)
		a, ok := sample(after, series)
		return ok && a-b >= by
	}
	// The worker counts a delivery once the peer's answer is in: poll.
	waitUntil(t, "the delivered Accept to be counted", 30*time.Second, func() bool {
		after = scrape(t, maddr)
		return moved(`coppice_delivery_attempts_total{outcome="delivered"}`, 1)
	})
	for _, c := range []struct {
		series string
		by     float64
	}{
		{`coppice_inbox_activities_total{outcome="accepted",type="Follow"}`, 1},
		{`coppice_inbox_activities_total{outcome="accepted",type="Undo"}`, 1},
		{`coppice_inbox_activities_total{outcome="unauthorized",type="unknown"}`, 1},
		{`coppice_inbox_request_duration_seconds_count{outcome="accepted"}`, 2},
		{`coppice_http_requests_total{method="POST",route="/c/{name}/inbox",status="202"}`, 2},
		{`coppice_http_requests_total{method="POST",route="/c/{name}/inbox",status="401"}`, 1},
		{`coppice_keys_fetches_total`, 1},
		{`coppice_keys_cache_hits_total`, 1},
		{`coppice_storage_write_transaction_seconds_count`, 1},
	} {
		b, _ := sample(before, c.series)
		a, ok := sample(after, c.series)
		if !ok || a-b < c.by {
			t.Errorf("%s went from %v to %v (present: %v), want it up by at least %v", c.series, b, a, ok, c.by)
		}
	}
	for _, series := range []string{
		`coppice_delivery_queue_depth{state="queued"}`,
		`coppice_delivery_fan_outs`,
		`coppice_delivery_oldest_due_age_seconds`,
		`coppice_delivery_hosts{health="failing"}`,
		`coppice_delivery_hosts{health="unreachable"}`,
		`go_goroutines`,
		`process_cpu_seconds_total`,
	} {
		if _, ok := sample(after, series); !ok {
			t.Errorf("the exposition lacks %s", series)
		}
	}

	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = strings.NewReader(after)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	res, err = http.Get(base + "/healthz/delivery")
	if err != nil {
		t.Fatal(err)
	}
	var health map[string]any
	err = json.NewDecoder(res.Body).Decode(&health)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || health["worker"] != "running" || health["behind_seconds"] == nil {
		t.Errorf("GET /healthz/delivery: %d %v %v, want 200 with the worker running", res.StatusCode, health, err)
	}

	// Logs: one access line per request with its id; the rejection of the
	// tampered Follow carries the id of its request.
	lines := logLines(t, logs.String())
	var rejectedID string
	ids := map[string]map[string]any{}
	for _, l := range lines {
		id, _ := l["request_id"].(string)
		switch l["msg"] {
		case "request":
			for _, k := range []string{"method", "route", "status", "duration", "request_id"} {
				if l[k] == nil {
					t.Errorf("access line lacks %s: %v", k, l)
				}
			}
			ids[id] = l
		case "rejected":
			rejectedID = id
		}
	}
	acc, ok := ids[rejectedID]
	if rejectedID == "" || !ok || acc["status"] != float64(401) || acc["route"] != "/c/{name}/inbox" || acc["level"] != "INFO" {
		t.Errorf("rejection logged with request_id %q, access line %v; want the access line of the 401 POST, at INFO", rejectedID, acc)
	}
}

// TestSIGTERMFinishesDeliveriesAndExitsZero sends SIGTERM to a real server
// while it sends two deliveries: one answered during the drain, one to a
// host that never answers. The server exits 0 within its drain bound; the
// first delivery is done, the second is queued for a retry and not claimed.
func TestSIGTERMFinishesDeliveriesAndExitsZero(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	ctx := context.Background()
	db := storagetest.DB(t)
	if code, _, errOut := coppice(t, "", "community", "create", "seeds", "--title", "Seeds", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	arrived := make(chan string, 2)
	release := make(chan struct{})
	answering := newHoldingHost(t, "127.0.0.61", arrived, release)
	silent := newHoldingHost(t, "127.0.0.62", arrived, nil)

	addr := freeAddr(t)
	st, err := storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.CommunityByName(ctx, "seeds")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err = st.InTx(ctx, func(tx *storage.Tx) error {
		id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{
			IRI: "http://" + addr + "/c/seeds/activities/term", CommunityID: c.ID, Type: "Announce",
			KeyID: "http://" + addr + "/c/seeds#main-key", CreatedAt: now,
			Body: []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://` + addr + `/c/seeds/activities/term","type":"Announce"}`),
		})
		if err != nil {
			return err
		}
		for _, inbox := range []string{answering + "/inbox", silent + "/inbox"} {
			if err := tx.EnqueueDelivery(ctx, id, inbox, now); err != nil {
				return err
			}
		}
		return nil
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	var logs syncBuffer
	cmd := serveProcess(t, db, addr, &logs)
	<-arrived
	<-arrived // both requests are in flight
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the server to stop accepting", 10*time.Second, func() bool {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
		}
		return err != nil
	})
	close(release) // the first host answers during the drain
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v, want exit 0\n%s", err, logs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("serve still running 60s after SIGTERM\n%s", logs.String())
	}

	st, err = storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	queued, failed, err := st.QueueStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if queued != 1 || failed != 0 {
		t.Errorf("after SIGTERM: %d queued, %d failed; want the silent host's delivery queued, the answered one done", queued, failed)
	}
	claimed, err := st.CountClaimed(ctx, time.Now())
	if err != nil || claimed != 0 {
		t.Errorf("claimed deliveries after SIGTERM = %d, %v; want 0 (released)", claimed, err)
	}
	hours, err := st.DeliveryHours(ctx, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, h := range hours {
		got[h.Outcome] += h.Count
	}
	if got[storage.OutcomeDelivered] != 1 || got[storage.OutcomeRetried] != 1 {
		t.Errorf("outcomes recorded = %v, want 1 delivered and 1 retried", got)
	}
}

// newHoldingHost is an inbox on ip that reports each request on arrived and
// answers 202 once release is closed; with a nil release it never answers.
// It returns its base URL.
func newHoldingHost(t *testing.T, ip string, arrived chan<- string, release <-chan struct{}) string {
	t.Helper()
	ln, err := netListen(ip)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: only then does the server see the client
		// hang up, which ends r.Context().
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- r.Host
		select {
		case <-release:
			w.WriteHeader(http.StatusAccepted)
		case <-r.Context().Done():
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func netListen(ip string) (net.Listener, error) { return net.Listen("tcp", ip+":0") }
