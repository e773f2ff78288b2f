package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/server"
)

// The attack benchmarks measure what genuine peers see while an instance
// is attacked through real HTTP on loopback (issue 12). Each runs once, for
// attackDuration, whatever b.N is, and only when COPPICE_ATTACK_BENCH=1:
//
//	COPPICE_ATTACK_BENCH=1 go test -run '^$' -bench Attack -benchtime 1x ./internal/server
const (
	attackDuration = 60 * time.Second
	attackConns    = 300 // attackers' connections, of both kinds together
)

func attackBench(b *testing.B) {
	b.Helper()
	if os.Getenv("COPPICE_ATTACK_BENCH") != "1" {
		b.Skip("set COPPICE_ATTACK_BENCH=1 to run the attack benchmarks (60s each)")
	}
}

// percentile returns the p-th percentile (0 < p <= 1) of ds, sorted.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := min(int(float64(len(ds))*p+0.5), len(ds)) - 1
	return ds[max(i, 0)]
}

// attackerAddress is the loopback address attacker connection i comes
// from: one address each, the hardest case, where no limit per client
// address applies.
func attackerAddress(i int) string {
	return fmt.Sprintf("127.0.%d.%d", 100+i/250, 1+i%250)
}

// slowBody holds one connection from the address from to addr as attack 5
// does: headers that announce a 100000-byte body, then one byte every 2 s.
// When the server gives up on it, it connects again, until ctx ends.
func slowBody(ctx context.Context, from, addr string, bytesSent *atomic.Int64) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	for ctx.Err() == nil {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return
		}
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		_, err = fmt.Fprintf(conn, "POST /inbox HTTP/1.1\r\nHost: %s\r\nContent-Type: application/activity+json\r\nContent-Length: 100000\r\n\r\n{", addr)
		for err == nil {
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-tick.C:
				_, err = conn.Write([]byte(" "))
				bytesSent.Add(1)
			}
		}
		stop()
		conn.Close()
	}
}

// BenchmarkAttackInboxSlots measures issue 12's attacks 5 and 6 together:
// half of attackConns connections, each from its own address, send slow
// bodies, the other half loop
// POSTing signed activities whose key ids (new ones each time) sit on 10
// hosts that accept connections and never answer, while a healthy peer's 20 members post
// genuine signed Notes, 5 a second. It reports the healthy posts' latency
// (p50, p99, max) and how many were not answered 202.
func BenchmarkAttackInboxSlots(b *testing.B) {
	attackBench(b)
	ti := newInstance(b, true)
	addr := strings.TrimPrefix(ti.URL, "http://")
	peer := fedtest.New(b, fedtest.OnAddress("127.0.0.40"))
	var members []*fedtest.Actor
	for i := range 20 {
		a := peer.NewActor(fmt.Sprint("member", i))
		f := a.Follow(ti.actor("seedbreeders"))
		if code, body := a.Post(b, ti.inbox("seedbreeders"), f); code != http.StatusAccepted {
			b.Fatalf("Follow by %s: %d %s", a.IRI, code, body)
		}
		members = append(members, a)
	}
	peer.Wait(b, len(members), wait, func(r fedtest.Received) bool { return r.Activity["type"] == "Accept" })
	keyHosts := newHangingHosts(b, 10)
	m := fedtest.New(b, fedtest.OnAddress("127.0.0.41")).NewActor("m")

	ctx, cancel := context.WithTimeout(context.Background(), attackDuration)
	defer cancel()
	var attackers sync.WaitGroup
	var slowBytes, keyPosts atomic.Int64
	var keyStatus sync.Map // status → *atomic.Int64
	for i := range attackConns / 2 {
		attackers.Go(func() { slowBody(ctx, attackerAddress(i), addr, &slowBytes) })
	}
	for i := range attackConns / 2 {
		attackers.Go(func() {
			attackClient := clientFrom(attackerAddress(attackConns/2 + i))
			// Signed once: each later request only changes the key id in
			// the Signature header, since the server fetches the key
			// before it checks the signature. The attack then costs this
			// process (which shares the CPU with the server) no RSA.
			body := m.Follow(ti.actor("seedbreeders"))
			first := fmt.Sprintf("%s/users/x%d#main-key", keyHosts.urls[i%len(keyHosts.urls)], i)
			signed, err := stranger(m, first).SignedRequest(ti.inbox("seedbreeders"), body, time.Now())
			if err != nil {
				return
			}
			for n := 0; ctx.Err() == nil; n++ {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, ti.inbox("seedbreeders"), bytes.NewReader(body))
				if err != nil {
					return
				}
				req.Header = signed.Header.Clone()
				keyID := fmt.Sprintf("%s/users/x%d-%d#main-key", keyHosts.urls[i%len(keyHosts.urls)], i, n)
				req.Header.Set("Signature", strings.Replace(signed.Header.Get("Signature"), first, keyID, 1))
				res, err := attackClient.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				keyPosts.Add(1)
				c, _ := keyStatus.LoadOrStore(res.StatusCode, new(atomic.Int64))
				c.(*atomic.Int64).Add(1)
			}
		})
	}

	var lat []time.Duration
	statuses := map[int]int{}
	var mu sync.Mutex
	var senders sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	tick := time.NewTicker(200 * time.Millisecond)
	b.ResetTimer()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		if ctx.Err() != nil {
			break
		}
		a := members[n%len(members)]
		req, err := a.SignedRequest(ti.inbox("seedbreeders"), note(a, fmt.Sprint("n", n), ti.actor("seedbreeders"), "", "Germination notes", true, true), time.Now())
		if err != nil {
			b.Fatal(err)
		}
		senders.Go(func() {
			start := time.Now()
			res, err := client.Do(req)
			d := time.Since(start)
			code := 0
			if err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				code = res.StatusCode
			}
			mu.Lock()
			lat = append(lat, d)
			statuses[code]++
			mu.Unlock()
		})
	}
	tick.Stop()
	senders.Wait()
	b.StopTimer()
	cancel()
	attackers.Wait()

	slices.Sort(lat)
	b.ReportMetric(float64(len(lat)), "healthy-posts")
	b.ReportMetric(float64(len(lat)-statuses[http.StatusAccepted]), "healthy-not-202")
	b.ReportMetric(float64(percentile(lat, 0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Milliseconds()), "p99-ms")
	b.ReportMetric(float64(percentile(lat, 1).Milliseconds()), "max-ms")
	b.ReportMetric(float64(keyPosts.Load()), "keyid-posts-answered")
	var keys []string
	keyStatus.Range(func(k, v any) bool {
		keys = append(keys, fmt.Sprintf("%v:%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	slices.Sort(keys)
	b.Logf("healthy statuses %v; key-id attack statuses %v; slow-body bytes sent %d; key hosts tried %d",
		statuses, keys, slowBytes.Load(), keyHosts.triedCount())
}

// BenchmarkAttackDeliveryStarvation measures issue 12's attack 7: 300
// followers whose shared inboxes sit on hosts that accept TCP and never
// answer, with the production timeouts (30s per request, 20s to the
// response headers). Every 5 s a member on another host posts, which
// fans out to the 300 hanging hosts again; right after it, the healthy
// follower posts too. It reports how long the healthy follower waited for
// its Accept (it follows while the first fan-out hangs) and for the
// announces of its own posts.
func BenchmarkAttackDeliveryStarvation(b *testing.B) {
	attackBench(b)
	ti := newInstance(b, true, func(o *server.Options) { o.ClientTimeout = 30 * time.Second })
	hang := newHangingHosts(b, 300)
	followAll(b, ti, hang.urls)
	ours := ti.actor("seedbreeders")

	bobs := fedtest.New(b, fedtest.OnAddress("127.0.0.42"))
	bob := bobs.NewActor("bob")
	member(b, ti, bobs, bob)
	if code, body := bob.Post(b, ti.inbox("seedbreeders"), note(bob, "0", ours, "", "Seed swap on Saturday", true, true)); code != http.StatusAccepted {
		b.Fatalf("post by bob: %d %s", code, body)
	}
	hang.waitTried(b, 100)

	b.ResetTimer()
	begin := time.Now()
	alices := fedtest.New(b, fedtest.OnAddress("127.0.0.43"))
	alice := alices.NewActor("alice")
	start := time.Now()
	member(b, ti, alices, alice)
	accept := time.Since(start)

	var lat []time.Duration
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for n := 1; time.Since(begin) < attackDuration; n++ {
		if code, body := bob.Post(b, ti.inbox("seedbreeders"), note(bob, fmt.Sprint(n), ours, "", "More seeds", true, true)); code != http.StatusAccepted {
			b.Fatalf("post by bob: %d %s", code, body)
		}
		start := time.Now()
		if code, body := alice.Post(b, ti.inbox("seedbreeders"), note(alice, fmt.Sprint(n), ours, "", "Which beans for clay soil?", true, true)); code != http.StatusAccepted {
			b.Fatalf("post by alice: %d %s", code, body)
		}
		alices.Wait(b, 1, time.Minute, announced(alice.IRI+"/notes/"+fmt.Sprint(n)+"/activity"))
		lat = append(lat, time.Since(start))
		<-tick.C
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(accept.Milliseconds()), "accept-ms")
	b.ReportMetric(float64(percentile(lat, 0.5).Milliseconds()), "announce-p50-ms")
	b.ReportMetric(float64(percentile(lat, 1).Milliseconds()), "announce-max-ms")
	b.Logf("announces to the healthy follower: %v; hanging hosts tried: %d of %d", lat, hang.triedCount(), len(hang.urls))
}
