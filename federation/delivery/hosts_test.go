package delivery

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestHostLimitsFree(t *testing.T) {
	t.Parallel()
	h := newHostLimits(2)
	ctx := context.Background()
	if n := h.free("a.example"); n != 2 {
		t.Fatalf("free = %d for a host nobody sends to, want 2", n)
	}
	r1, _ := h.acquire(ctx, "a.example")
	r2, _ := h.acquire(ctx, "a.example")
	if a, b := h.free("a.example"), h.free("b.example"); a != 0 || b != 2 {
		t.Fatalf("free = %d for the host with both slots taken, %d for another; want 0 and 2", a, b)
	}
	r1()
	if n := h.free("a.example"); n != 1 {
		t.Fatalf("free = %d after a release, want 1", n)
	}
	r2()
}

func TestHostLimitsWaitForAFreeSlot(t *testing.T) {
	t.Parallel()
	h := newHostLimits(2)
	ctx := context.Background()
	r1, _ := h.acquire(ctx, "a.example")
	r2, _ := h.acquire(ctx, "a.example")
	if _, err := h.acquire(ctx, "b.example"); err != nil {
		t.Fatalf("acquire on another host = %v, want a slot", err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := h.acquire(short, "a.example"); err == nil {
		t.Fatal("third acquire on a host with 2 slots succeeded, want it to wait")
	}
	got := make(chan error, 1)
	go func() {
		r, err := h.acquire(ctx, "a.example")
		if err == nil {
			r()
		}
		got <- err
	}()
	r1()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("acquire after a release = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("acquire did not get the released slot")
	}
	r2()
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.slots["a.example"]; ok {
		t.Error("idle host a.example still has a semaphore, want it dropped")
	}
}

func TestHostLimitsHoldBack(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		failures int
		wait     time.Duration // 429 Retry-After, 0: none
		success  bool
		want     time.Duration // 0: not held
		wantWhy  string
	}{
		{"a few failures", breakerThreshold - 1, 0, false, 0, ""},
		{"failures up to the threshold", breakerThreshold, 0, false, time.Minute, "host failing"},
		{"failures then a success", breakerThreshold, 0, true, 0, ""},
		{"a 429", 0, 30 * time.Second, false, 30 * time.Second, "host asked to wait"},
		{"a 429 longer than the breaker", breakerThreshold, 2 * time.Minute, false, 2 * time.Minute, "host asked to wait"},
		{"a 429 outlives a success", 0, 30 * time.Second, true, 30 * time.Second, "host asked to wait"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHostLimits(4)
			for range tc.failures {
				h.failed("a.example", now, now.Add(time.Minute), "HTTP 503")
			}
			if tc.wait > 0 {
				h.setWait("a.example", now.Add(tc.wait), now)
			}
			if tc.success {
				h.succeeded("a.example", now)
			}
			until, why := h.heldUntil("a.example", now)
			var want time.Time
			if tc.want > 0 {
				want = now.Add(tc.want)
			}
			if !until.Equal(want) || !strings.HasPrefix(why, tc.wantWhy) {
				t.Errorf("heldUntil = %v, %q; want %v, %q…", until, why, want, tc.wantWhy)
			}
			if other, _ := h.heldUntil("b.example", now); !other.IsZero() {
				t.Errorf("another host is held until %v, want not held", other)
			}
		})
	}
}

func TestHostStanding(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h := newHostLimits(4)
	check := func(when string, wantGood, wantSlow bool) {
		t.Helper()
		if good, slow := h.standing("a.example"); good != wantGood || slow != wantSlow {
			t.Errorf("%s: standing = good %v, slow %v; want %v, %v", when, good, slow, wantGood, wantSlow)
		}
	}
	check("never tried", false, false)
	h.timedOut("a.example", now)
	check("after a timeout", false, true)
	h.answered("a.example", now)
	check("after an answer", true, false)
	h.failed("a.example", now, now.Add(time.Minute), "HTTP 503")
	h.succeeded("a.example", now)
	check("after a failure and a success", true, false)
}

// anySlow follows the hosts whose last attempts timed out: up with the
// first timeout, down with an answer or when the host's state is dropped.
func TestHostLimitsAnySlow(t *testing.T) {
	t.Parallel()
	h := newHostLimits(2)
	now := time.Now()
	if h.anySlow() {
		t.Fatal("slow before any attempt")
	}
	h.timedOut("a.example", now)
	h.timedOut("a.example", now)
	h.timedOut("b.example", now)
	if !h.anySlow() {
		t.Fatal("not slow after timeouts")
	}
	h.answered("a.example", now)
	if !h.anySlow() {
		t.Fatal("not slow while b.example has timed out")
	}
	h.answered("b.example", now)
	h.answered("b.example", now)
	if h.anySlow() {
		t.Fatal("slow after both hosts answered")
	}
	// A slow host whose state is dropped to make room no longer counts.
	h.timedOut("c.example", now)
	for i := range maxHostStates {
		h.succeeded(fmt.Sprintf("h%d.example", i), now) // no state made
		h.answered(fmt.Sprintf("h%d.example", i), now)
	}
	if h.anySlow() {
		_, stillThere := h.hosts["c.example"]
		t.Fatalf("slow after the host states were dropped (c.example kept: %v)", stillThere)
	}
}
