package main

import (
	"runtime/debug"
)

// Garbage collection (issue 13). A server's live heap is small (tens of
// MB) and most of what it allocates lives for one request, so with Go's
// default (GOGC=100: collect each time the heap doubles) it collected
// every few milliseconds under load: 9% of the CPU of a post went to
// marking. The server collects when the heap has grown by gcPercent
// instead, within a soft limit on the memory Go holds (gcMemoryLimit):
// near the limit it collects as often as it must, so memory stays
// bounded whatever the percent. BM-1 at 1.48 million posts: 0.55-0.56 →
// 0.45-0.46 ms of CPU per post, 2,470 → 3,010-3,080 posts/s, peak RSS
// 60 → 102 MB. A limit of 96 MiB let a fan-out run reach 138 MB of RSS
// (SQLite's caches and the stacks come on top); at 64 MiB, 109 MB.
const (
	gcPercent     = 400
	gcMemoryLimit = 64 << 20
)

// tuneGC sets the collector's percent and memory limit, each unless its
// environment variable (GOGC, GOMEMLIMIT) is set: the runtime has then
// taken that value, and it stays.
func tuneGC(env func(string) string) {
	if env("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if env("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcMemoryLimit)
	}
}
