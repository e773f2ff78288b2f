package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// BenchmarkReadPath is issue 13's BM-4 in one process: GETs of a
// community's Group actor and of its outbox's first page, with an outbox
// of 10,000 listed activities. handler/* runs the whole router without the
// network (what a GET costs the server, in CPU time and allocations); http sends
// b.N GETs, half of each, over 64 connections and reports requests per
// second, the 99th percentile latency and the CPU time per request (client
// and server share the process, so it includes the client's work).
// cmd/coppice-load read runs the same workload against a real server
// process on the database of a million posts.
func BenchmarkReadPath(b *testing.B) {
	ctx := context.Background()
	ti := newInstance(b, true)
	c, err := ti.store.CommunityByName(ctx, "seedbreeders")
	if err != nil {
		b.Fatal(err)
	}
	err = ti.store.InTx(ctx, func(tx *storage.Tx) error {
		for i := range 10000 {
			if _, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: fmt.Sprintf("%s/activities/%024x", ti.actor("seedbreeders"), i),
				CommunityID: c.ID, Type: "Announce", KeyID: ti.actor("seedbreeders") + "#main-key", Body: []byte(`{}`), Listed: true, CreatedAt: time.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	paths := []string{"/c/seedbreeders", "/c/seedbreeders/outbox?page=1"}
	for i, name := range []string{"handler/actor", "handler/outbox"} {
		b.Run(name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, paths[i], nil)
			req.Header.Set("Accept", "application/activity+json")
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				rec := httptest.NewRecorder()
				ti.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", paths[i], rec.Code)
				}
			}
			// On a shared machine the CPU time is steadier than ns/op.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
	b.Run("http", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
		lat := make([]time.Duration, b.N)
		var next atomic.Int64
		var failed sync.Once
		var wg sync.WaitGroup
		cpu0, t0 := cpuTime(), time.Now()
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
					req, _ := http.NewRequest(http.MethodGet, ti.URL+paths[i%2], nil)
					req.Header.Set("Accept", "application/activity+json")
					start := time.Now()
					res, err := client.Do(req)
					if err == nil {
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
					}
					lat[i] = time.Since(start)
					if err != nil || res.StatusCode != http.StatusOK {
						failed.Do(func() { b.Errorf("GET %s: %v %v", paths[i%2], err, res) })
					}
				}
			}()
		}
		wg.Wait()
		wall, cpu := time.Since(t0), cpuTime()-cpu0
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(b.N)/wall.Seconds(), "requests/s")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/request")
	})
}
