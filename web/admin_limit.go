package web

import (
	"sync"
	"time"
)

// loginLimiter counts failed console logins per key (a client address, a
// username) in a sliding window. A key with max failures in the window is
// refused until the oldest of them leaves it.
type loginLimiter struct {
	now    func() time.Time
	max    int
	window time.Duration

	mu sync.Mutex
	// mu guards failures: per key, the times of its last failures, oldest
	// first, at most max of them.
	failures map[string][]time.Time
}

// sweepAbove is the number of keys past which fail drops stale keys.
const sweepAbove = 10_000

func newLoginLimiter(now func() time.Time, limit int, window time.Duration) *loginLimiter {
	return &loginLimiter{now: now, max: limit, window: window, failures: map[string][]time.Time{}}
}

// retryAfter returns how long the most limited of keys must wait; 0 means
// go ahead.
func (l *loginLimiter) retryAfter(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range keys {
		fs := l.recent(k, now)
		if len(fs) < l.max {
			continue
		}
		if w := fs[len(fs)-l.max].Add(l.window).Sub(now); w > wait {
			wait = w
		}
	}
	return wait
}

// fail records a failure for each key.
func (l *loginLimiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.failures) > sweepAbove {
		for k := range l.failures {
			l.recent(k, now)
		}
	}
	for _, k := range keys {
		fs := append(l.recent(k, now), now)
		if len(fs) > l.max {
			fs = fs[len(fs)-l.max:]
		}
		l.failures[k] = fs
	}
}

// reset forgets the failures of key (a username after a good login).
func (l *loginLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

// recent drops the failures of key that left the window and returns the
// rest. The caller holds mu.
func (l *loginLimiter) recent(key string, now time.Time) []time.Time {
	fs := l.failures[key]
	i := 0
	for i < len(fs) && !fs[i].After(now.Add(-l.window)) {
		i++
	}
	if i == len(fs) {
		delete(l.failures, key)
		return nil
	}
	fs = fs[i:]
	l.failures[key] = fs
	return fs
}
