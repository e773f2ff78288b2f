package federation

import (
	"sync"
	"time"
)

// limiter is a token bucket per key (a host, an actor): burst tokens at
// once, then one more every interval. Its memory is bounded: past maxKeys
// it forgets the keys whose buckets are full again.
type limiter struct {
	burst    float64
	interval time.Duration

	mu sync.Mutex
	// mu guards buckets.
	buckets map[string]*bucket
}

// bucket is the tokens of one key at time at.
type bucket struct {
	tokens float64
	at     time.Time
}

// maxLimiterKeys bounds the buckets of one limiter between prunings.
const maxLimiterKeys = 10_000

func newLimiter(burst int, interval time.Duration) *limiter {
	return &limiter{burst: float64(burst), interval: interval, buckets: map[string]*bucket{}}
}

// take spends one token of key at now. When none is left it spends nothing
// and returns false and how long until the next token.
func (l *limiter) take(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxLimiterKeys {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens, b.at = l.refill(b, now), now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.interval))
	}
	b.tokens--
	return true, 0
}

func (l *limiter) refill(b *bucket, now time.Time) float64 {
	if now.Before(b.at) {
		return b.tokens
	}
	return min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.interval))
}

// prune drops full buckets, or every bucket when all are in use. l.mu must
// be held.
func (l *limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if l.refill(b, now) >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxLimiterKeys {
		clear(l.buckets)
	}
}
