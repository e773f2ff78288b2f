package federation

import (
	"sync"
	"time"
)

// Limits of key fetches (RAT-02, RAT-04, RAT-05): every POST with a key id
// we do not know costs a signed GET to the key's host, so a peer could make
// us send as many as it sends POSTs, and learn from our answers what each
// one found.
const (
	// KeyFetchBurst is how many key fetches one host may cause at once;
	// then one more every KeyFetchEvery. Beyond that a POST with an
	// unknown key id is answered 429 without a fetch.
	KeyFetchBurst = 30
	KeyFetchEvery = 2 * time.Second
	// FailedKeyTTL is how long a key id whose fetch failed (404, not a
	// key, not owned) is answered 401 without a fetch.
	FailedKeyTTL = 5 * time.Minute
	// DownKeyHostTTL is how long a host that did not answer a key fetch
	// (timeout, refused, 5xx) is answered 503 without one (FLT-16: the
	// sender retries later).
	DownKeyHostTTL = time.Minute
	// maxKeyFetchMemory bounds the failures remembered; past it, expired
	// entries are dropped, then all.
	maxKeyFetchMemory = 10_000
)

// keyFetchLimits is what Keys remembers of its key fetches: a budget per
// key host and the failures not to repeat.
type keyFetchLimits struct {
	budget *limiter

	mu sync.Mutex
	// mu guards failedKeys and downHosts.
	failedKeys map[string]time.Time // key id → until when it is answered 401
	downHosts  map[string]time.Time // host → until when its keys are answered 503
}

func newKeyFetchLimits() *keyFetchLimits {
	return &keyFetchLimits{budget: newLimiter(KeyFetchBurst, KeyFetchEvery), failedKeys: map[string]time.Time{}, downHosts: map[string]time.Time{}}
}

// verdict of a key fetch that was not made.
type skipped int

const (
	fetchAllowed skipped = iota
	keyFailedBefore
	hostDownBefore
	hostOverBudget
)

// take decides whether keyID on host may be fetched at now, and if so
// spends one of the host's fetches. When the budget is spent it also
// returns how long until the next fetch.
func (l *keyFetchLimits) take(keyID, host string, now time.Time) (skipped, time.Duration) {
	l.mu.Lock()
	failedUntil, downUntil := l.failedKeys[keyID], l.downHosts[host]
	l.mu.Unlock()
	if now.Before(failedUntil) {
		return keyFailedBefore, 0
	}
	if now.Before(downUntil) {
		return hostDownBefore, downUntil.Sub(now)
	}
	if ok, wait := l.budget.take(host, now); !ok {
		return hostOverBudget, wait
	}
	return fetchAllowed, 0
}

// failed remembers a key id whose document was no key of its actor.
func (l *keyFetchLimits) failed(keyID string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	remember(l.failedKeys, keyID, now.Add(FailedKeyTTL), now)
}

// down remembers a host that did not answer a key fetch.
func (l *keyFetchLimits) down(host string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	remember(l.downHosts, host, now.Add(DownKeyHostTTL), now)
}

// remember sets m[k] to until, making room first. l.mu must be held.
func remember(m map[string]time.Time, k string, until, now time.Time) {
	if len(m) >= maxKeyFetchMemory {
		for k, until := range m {
			if !now.Before(until) {
				delete(m, k)
			}
		}
		if len(m) >= maxKeyFetchMemory {
			clear(m)
		}
	}
	m[k] = until
}
