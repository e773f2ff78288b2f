package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestTuneGC: the server's collector percent and memory limit are set
// unless GOGC or GOMEMLIMIT is in the environment, which then wins.
func TestTuneGC(t *testing.T) {
	percent := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
	if !tuneGC(func(string) string { return "" }) {
		t.Error("tuneGC did not say it set the limit")
	}
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("GC percent %d, want %d", got, gcPercent)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != gcMemoryLimit {
		t.Errorf("memory limit %d, want %d", got, gcMemoryLimit)
	}
	set := map[string]string{"GOGC": "150", "GOMEMLIMIT": "1GiB"}
	if tuneGC(func(k string) string { return set[k] }) {
		t.Error("tuneGC said it set the limit though GOMEMLIMIT is set")
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: GC percent changed to %d", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("GOMEMLIMIT set: memory limit changed to %d", got)
	}
}

// TestMemoryLimitFollowsTheLiveHeap: the limit is gcMemoryLimit while the
// live heap is under half of it, then twice the live heap, so the server
// never collects more often than Go's default would.
func TestMemoryLimitFollowsTheLiveHeap(t *testing.T) {
	for live, want := range map[uint64]int64{
		0:                   gcMemoryLimit,
		6 << 20:             gcMemoryLimit,
		gcMemoryLimit / 2:   gcMemoryLimit,
		gcMemoryLimit/2 + 1: gcMemoryLimit + 2,
		100 << 20:           200 << 20,
		2 << 30:             4 << 30,
	} {
		if got := memoryLimitFor(live); got != want {
			t.Errorf("memoryLimitFor(%d) = %d, want %d", live, got, want)
		}
	}
}
