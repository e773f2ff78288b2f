package server_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/server"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkInboxIngest is issue 13's BM-1 in one process: b.N signed
// Create{Note} posts (each a new thread) from 20 authors on one host, sent
// to the shared inbox over HTTP by 64 connections, into a community whose
// posting policy is anyone and which has no followers. It reports accepted
// posts per second, the 99th percentile latency and the CPU time per post
// (client and server share the process, so the CPU figure includes the
// client's HTTP work but not its signing, done before the timer starts),
// and fails unless every post was stored. cmd/coppice-load runs the same
// workload against a real server process on a large database. Run with
// -benchtime=3000x: each request is signed in advance, 1-2 ms each.
func BenchmarkInboxIngest(b *testing.B) {
	ctx := context.Background()
	ti := newInstance(b, true, func(o *server.Options) {
		// Throughput, not the rate limits, is measured here.
		o.Rate = federation.Rate{ActorBurst: 1 << 30, HostBurst: 1 << 30}
	})
	if _, err := ti.svc.UpdateSettings(ctx, "seedbreeders", community.Settings{PostingPolicy: community.PostAnyone, BoostReplies: true}); err != nil {
		b.Fatal(err)
	}
	communityIRI := ti.actor("seedbreeders")
	peer := fedtest.New(b, fedtest.OnAddress("127.0.0.20"))
	var authors []*fedtest.Actor
	for u := 0; u < 20; u++ {
		a := peer.NewActor(fmt.Sprint("author", u))
		authors = append(authors, a)
		// Warm the key cache, as a busy server's is.
		if code, body := a.Post(b, ti.sharedInbox(), note(a, "warm", communityIRI, "", "<p>warm-up</p>", true, true)); code != 202 {
			b.Fatalf("warm-up: %d %s", code, body)
		}
	}
	before, err := ti.store.CountPosts(ctx)
	if err != nil {
		b.Fatal(err)
	}
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		a := authors[i%len(authors)]
		body := note(a, fmt.Sprint(i), communityIRI, "", fmt.Sprintf("<p>Post %d: notes on grafting, rootstock and scion timing.</p>", i), true, true)
		r, err := a.SignedRequest(ti.sharedInbox(), body, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = r
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	lat := make([]time.Duration, b.N)
	work := make(chan int)
	var wg sync.WaitGroup
	var failed sync.Once
	b.ResetTimer()
	cpu0, t0 := cpuTime(), time.Now()
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				start := time.Now()
				res, err := client.Do(reqs[i])
				if err != nil || res.StatusCode != 202 {
					failed.Do(func() { b.Errorf("request %d: %v %v", i, err, res) })
				}
				if res != nil {
					res.Body.Close()
				}
				lat[i] = time.Since(start)
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	wall, cpu := time.Since(t0), cpuTime()-cpu0
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	after, err := ti.store.CountPosts(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if after-before != b.N {
		b.Errorf("%d posts stored, want %d", after-before, b.N)
	}
	b.ReportMetric(float64(b.N)/wall.Seconds(), "posts/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/post")
}
