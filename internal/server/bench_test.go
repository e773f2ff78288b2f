package server_test

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/federation/fedtest"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkInboxIngest posts b.N signed activities from 16 senders on 4
// hosts to the shared inbox over HTTP, 32 at a time, and reports accepted
// activities per second, the 99th percentile latency and the CPU time per
// activity (client and server share the process, so the CPU figure
// includes the client's HTTP work but not its signing, done before the
// timer starts). Run with -benchtime=5000x: each request is signed in
// advance, about 1-2 ms each.
func BenchmarkInboxIngest(b *testing.B) {
	ti := newInstance(b, true, func(o *federation.Options) {
		// Throughput, not the rate limits, is measured here.
		o.Rate = federation.Rate{ActorBurst: 1 << 30, HostBurst: 1 << 30}
	})
	var actors []*fedtest.Actor
	for h := 0; h < 4; h++ {
		peer := fedtest.New(b, fedtest.OnAddress(fmt.Sprintf("127.0.0.%d", 20+h)))
		for u := 0; u < 4; u++ {
			a := peer.NewActor(fmt.Sprint("sender", u))
			actors = append(actors, a)
			// Warm the key cache, as a busy server's is.
			if code, body := a.Post(b, ti.sharedInbox(), a.Follow(ti.actor("seedbreeders"))); code != 202 {
				b.Fatalf("warm-up: %d %s", code, body)
			}
		}
	}
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		a := actors[i%len(actors)]
		body := []byte(fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":"%s/likes/%d","type":"Like","actor":"%s","object":"%s"}`,
			a.IRI, i, a.IRI, ti.actor("seedbreeders")))
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
	for w := 0; w < 32; w++ {
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
	b.ReportMetric(float64(b.N)/wall.Seconds(), "activities/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
}
