package federation

import (
	"sync"
	"time"

	"github.com/coppice-dev/coppice/internal/hostname"
)

// Limits of key fetches (RAT-02, RAT-04, RAT-05): every POST with a key id
// we do not know costs a signed GET to the key's host, so a peer could make
// us send as many as it sends POSTs, and learn from our answers what each
// one found.
const (
	// KeyFetchBurst is how many key fetches one domain (a registrable
	// domain and all its subdomains, hostname.Registrable: FET-10, RAT-02)
	// may cause at once; then one more every KeyFetchEvery. Beyond that a
	// POST with an unknown key id is answered 429 without a fetch.
	KeyFetchBurst = 30
	KeyFetchEvery = 2 * time.Second
	// FailedKeyTTL is how long a key id whose fetch failed (404, not a
	// key, not owned) is answered 401 without a fetch.
	FailedKeyTTL = 5 * time.Minute
	// DownKeyHostTTL is how long a host that did not answer a key fetch
	// (timeout, refused, 5xx) is answered 503 without one (FLT-16: the
	// sender retries later).
	DownKeyHostTTL = time.Minute
	// KeyFetchesPerHost is how many key fetches to one domain (as for
	// KeyFetchBurst) may be under way at once; beyond it a POST waits for
	// no slot: 503 with
	// Retry-After (RAT-08: key ids on a host that never answers must not
	// take the inbox slots that other peers need).
	KeyFetchesPerHost = 4
	// keyFetchTimeout bounds one key fetch, redirects and the actor
	// document of a minimal key document included.
	keyFetchTimeout = 10 * time.Second
	// maxKeyFetchMemory bounds the failures remembered; past it, expired
	// entries are dropped, then all.
	maxKeyFetchMemory = 10_000
)

// keyFetchLimits is what Keys remembers of its key fetches: a budget per
// key host, the fetches under way per host, and the failures not to
// repeat.
type keyFetchLimits struct {
	budget *limiter

	mu sync.Mutex
	// mu guards failedKeys, downHosts and running.
	failedKeys map[string]time.Time // key id → until when it is answered 401
	downHosts  map[string]time.Time // host → until when its keys are answered 503
	running    map[string]int       // host → key fetches under way
}

func newKeyFetchLimits() *keyFetchLimits {
	return &keyFetchLimits{budget: newLimiter(KeyFetchBurst, KeyFetchEvery),
		failedKeys: map[string]time.Time{}, downHosts: map[string]time.Time{}, running: map[string]int{}}
}

// start counts a key fetch to host as under way, unless KeyFetchesPerHost
// to its domain are already; the returned function ends it.
func (l *keyFetchLimits) start(host string) (done func(), ok bool) {
	host = hostname.Registrable(host)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[host] >= KeyFetchesPerHost {
		return nil, false
	}
	l.running[host]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.running[host]--; l.running[host] <= 0 {
			delete(l.running, host)
		}
	}, true
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
// spends one of the fetches of the host's domain. When the budget is spent it also
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
	if ok, wait := l.budget.take(hostname.Registrable(host), now); !ok {
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
