package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Garbage collection (issue 13). A server's live heap is small (5-10 MB
// under BM-1) and most of what it allocates lives for one request, so
// with Go's default (GOGC=100: collect each time the heap doubles) it
// collected every few milliseconds under load: 9% of the CPU of a post
// went to marking. The server collects when the heap has grown by
// gcPercent instead, within a soft limit on the memory Go holds
// (gcMemoryLimit): near the limit it collects as often as it must, so
// memory stays bounded whatever the percent. BM-1 at 1.48 million posts:
// 0.55-0.56 → 0.45-0.46 ms of CPU per post, 2,470 → 3,010-3,080 posts/s,
// peak RSS 60 → 102 MB. A limit of 96 MiB let a fan-out run reach 138 MB
// of RSS (SQLite's caches and the stacks come on top); at 64 MiB, 109 MB.
//
// A fixed limit would make a server whose live heap grows past half of
// it collect more often than Go's default, and one past all of it
// collect all the time. So the limit follows the live heap: never below
// twice it (where GOGC=100 would collect), checked every
// gcLimitEvery.
const (
	gcPercent     = 400
	gcMemoryLimit = 64 << 20
	gcLimitEvery  = time.Second
)

// tuneGC sets the collector's percent and memory limit, each unless its
// environment variable (GOGC, GOMEMLIMIT) is set: the runtime has then
// taken that value, and it stays. It reports whether it set the limit,
// which then follows the live heap (followLiveHeap).
func tuneGC(env func(string) string) (limited bool) {
	if env("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if env("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcMemoryLimit)
		return true
	}
	return false
}

// memoryLimitFor is the memory limit for a live heap of live bytes: the
// configured one, or twice the live heap when that is more.
func memoryLimitFor(live uint64) int64 {
	return max(int64(gcMemoryLimit), 2*int64(live))
}

// followLiveHeap keeps the memory limit at memoryLimitFor the live heap
// until ctx ends.
func followLiveHeap(ctx context.Context) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	tick := time.NewTicker(gcLimitEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(memoryLimitFor(sample[0].Value.Uint64()))
		}
	}
}
