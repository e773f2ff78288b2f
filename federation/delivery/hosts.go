package delivery

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// hostLimits is the worker's own view of each host: how many requests are
// in flight to it, until when it asked us to wait (429 Retry-After), and
// whether it keeps failing.
//
// The database claim already limits rows per host and skips hosts that
// asked to wait, but only once the outcomes are written; this view takes
// effect at once, for rows claimed in between.
type hostLimits struct {
	perHost int

	mu sync.Mutex
	// mu guards slots, hosts and slow.
	slots map[string]*hostSlot
	hosts map[string]*hostState
	// slow counts the hosts in hosts whose timeouts are above zero.
	slow int
}

// hostSlot is the semaphore of one host. It is dropped when nobody holds or
// waits for it, so the map stays as small as the set of busy hosts.
type hostSlot struct {
	sem  chan struct{}
	refs int // holders and waiters
}

func newHostLimits(perHost int) *hostLimits {
	return &hostLimits{perHost: perHost, slots: make(map[string]*hostSlot), hosts: make(map[string]*hostState)}
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

// free is how many of host's slots are not taken: how many attempts
// started now would not wait for one.
func (h *hostLimits) free(host string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.slots[host]; ok {
		return h.perHost - len(s.sem)
	}
	return h.perHost
}

// breakerThreshold is how many failures in a row make the worker hold a
// host's other deliveries back (FLT-02: Mastodon's Stoplight trips after
// 10). Without it a host that swallows connections would take PerHost
// slots for a whole Timeout with every row claimed for it (FLT-05,
// Mastodon #12445).
const breakerThreshold = 10

// hostState is what the worker remembers of a host: whether it is failing
// or asked us to wait, and whether it answers in time.
type hostState struct {
	wait      time.Time // 429 Retry-After
	failures  int       // in a row, as seen by this process
	openUntil time.Time // held back after breakerThreshold failures
	lastError string
	// timeouts counts the attempts in a row that got no answer in time
	// (FLT-17): while it is above zero the host's deliveries go to the
	// slow lane, with the short timeout.
	timeouts int
	// answered: the host's last attempt got an answer, of any status.
	answered bool
}

// setWait remembers that host wants nothing from us before until.
func (h *hostLimits) setWait(host string, until, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(host, now)
	if until.After(st.wait) {
		st.wait = until
	}
}

// failed counts a failure of host. From the breakerThreshold-th failure in
// a row, the host's other deliveries are held until retryAt, when the
// failed one is retried: that retry is the probe.
func (h *hostLimits) failed(host string, now, retryAt time.Time, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(host, now)
	st.failures++
	st.lastError = msg
	if st.failures >= breakerThreshold && retryAt.After(st.openUntil) {
		st.openUntil = retryAt
	}
}

// succeeded forgets the failures of host.
func (h *hostLimits) succeeded(host string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.hosts[host]
	if !ok {
		return
	}
	st.failures, st.openUntil, st.lastError = 0, time.Time{}, ""
}

// answered records that host answered an attempt in time, whatever the
// status: it leaves the slow lane and its deliveries start first.
func (h *hostLimits) answered(host string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(host, now)
	if st.timeouts > 0 {
		h.slow--
	}
	st.timeouts, st.answered = 0, true
}

// timedOut records that an attempt at host got no answer in time.
func (h *hostLimits) timedOut(host string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(host, now)
	if st.timeouts == 0 {
		h.slow++
	}
	st.timeouts++
	st.answered = false
}

// anySlow says whether some host has a history of timeouts: without one,
// every row needs a main slot.
func (h *hostLimits) anySlow() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.slow > 0
}

// standing says whether host answered its last attempt (good) and whether
// it has a history of timeouts (slow). A host this process has not tried
// yet is neither.
func (h *hostLimits) standing(host string) (good, slow bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.hosts[host]
	if !ok {
		return false, false
	}
	return st.answered, st.timeouts > 0
}

// heldUntil returns until when deliveries to host are held back, and why,
// or the zero time.
func (h *hostLimits) heldUntil(host string, now time.Time) (time.Time, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.hosts[host]
	if !ok {
		return time.Time{}, ""
	}
	switch {
	case st.wait.After(now) && !st.wait.Before(st.openUntil):
		return st.wait, "host asked to wait"
	case st.openUntil.After(now):
		return st.openUntil, fmt.Sprintf("host failing (%d in a row): %s", st.failures, st.lastError)
	}
	return time.Time{}, ""
}

// state returns the state of host, making it if needed. When the map is
// large it first drops the hosts that hold nothing back, forgetting their
// standing: a forgotten slow host is found out again by its next attempt,
// which leaves the main lane after slowAfter. h.mu must be held.
func (h *hostLimits) state(host string, now time.Time) *hostState {
	if st, ok := h.hosts[host]; ok {
		return st
	}
	if len(h.hosts) >= maxHostStates {
		for k, st := range h.hosts {
			if !st.wait.After(now) && !st.openUntil.After(now) {
				if st.timeouts > 0 {
					h.slow--
				}
				delete(h.hosts, k)
			}
		}
	}
	st := &hostState{}
	h.hosts[host] = st
	return st
}

// maxHostStates bounds the memory of failing hosts between prunings.
const maxHostStates = 4096
