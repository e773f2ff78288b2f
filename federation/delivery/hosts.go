package delivery

import (
	"context"
	"sync"
	"time"
)

// hostLimits is the worker's own view of each host: how many requests are
// in flight to it, and until when it asked us to wait (429 Retry-After).
//
// The database claim already limits rows per host and skips hosts that
// asked to wait, but only once the outcomes are written; this view takes
// effect at once, for rows claimed in between.
type hostLimits struct {
	perHost int

	mu sync.Mutex
	// mu guards slots and waits.
	slots map[string]*hostSlot
	waits map[string]time.Time
}

// hostSlot is the semaphore of one host. It is dropped when nobody holds or
// waits for it, so the map stays as small as the set of busy hosts.
type hostSlot struct {
	sem  chan struct{}
	refs int // holders and waiters
}

func newHostLimits(perHost int) *hostLimits {
	return &hostLimits{perHost: perHost, slots: make(map[string]*hostSlot), waits: make(map[string]time.Time)}
}

// acquire takes one of the host's slots, waiting while all are busy. The
// returned function gives it back.
func (h *hostLimits) acquire(ctx context.Context, host string) (release func(), err error) {
	h.mu.Lock()
	s, ok := h.slots[host]
	if !ok {
		s = &hostSlot{sem: make(chan struct{}, h.perHost)}
		h.slots[host] = s
	}
	s.refs++
	h.mu.Unlock()

	drop := func() {
		h.mu.Lock()
		s.refs--
		if s.refs == 0 {
			delete(h.slots, host)
		}
		h.mu.Unlock()
	}
	select {
	case s.sem <- struct{}{}:
		return func() { <-s.sem; drop() }, nil
	case <-ctx.Done():
		drop()
		return nil, ctx.Err()
	}
}

// setWait remembers that host wants nothing from us before until.
func (h *hostLimits) setWait(host string, until, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.waits) >= 1024 {
		for k, t := range h.waits {
			if !t.After(now) {
				delete(h.waits, k)
			}
		}
	}
	if until.After(h.waits[host]) {
		h.waits[host] = until
	}
}

// waitUntil returns until when host asked us to wait, or the zero time.
func (h *hostLimits) waitUntil(host string, now time.Time) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.waits[host]
	if !ok {
		return time.Time{}
	}
	if !t.After(now) {
		delete(h.waits, host)
		return time.Time{}
	}
	return t
}
