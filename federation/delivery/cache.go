package delivery

import (
	"context"
	"sync"
	"time"
)

// cache keeps a few loaded values by key, loading each once even when many
// goroutines ask for it together: a fan-out to 100,000 inboxes reads and
// holds one copy of the activity body, shared by every request.
//
// It is bounded by clearing itself when it reaches limit entries; values in
// use stay alive in the goroutines that hold them.
type cache[K comparable, V any] struct {
	limit int
	ttl   time.Duration // 0: entries never expire
	load  func(ctx context.Context, k K) (V, error)

	mu sync.Mutex
	// mu guards entries.
	entries map[K]*cacheEntry[V]
}

type cacheEntry[V any] struct {
	ready    chan struct{} // closed when v and err are set
	v        V
	err      error
	loadedAt time.Time
}

func newCache[K comparable, V any](limit int, ttl time.Duration, load func(context.Context, K) (V, error)) *cache[K, V] {
	return &cache[K, V]{limit: limit, ttl: ttl, load: load, entries: make(map[K]*cacheEntry[V])}
}

// get returns the value for k, loading it when it is missing or expired.
// A failed load is not cached.
func (c *cache[K, V]) get(ctx context.Context, k K, now time.Time) (V, error) {
	c.mu.Lock()
	e, ok := c.entries[k]
	if ok && c.ttl > 0 && isReady(e) && now.Sub(e.loadedAt) > c.ttl {
		ok = false
	}
	if !ok {
		if len(c.entries) >= c.limit {
			clear(c.entries)
		}
		e = &cacheEntry[V]{ready: make(chan struct{}), loadedAt: now}
		c.entries[k] = e
		c.mu.Unlock()
		e.v, e.err = c.load(ctx, k)
		close(e.ready)
		if e.err != nil {
			c.mu.Lock()
			if c.entries[k] == e {
				delete(c.entries, k)
			}
			c.mu.Unlock()
		}
		return e.v, e.err
	}
	c.mu.Unlock()
	select {
	case <-e.ready:
		if e.err != nil {
			// Another goroutine's load failed: try once ourselves.
			return c.load(ctx, k)
		}
		return e.v, nil
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

func isReady[V any](e *cacheEntry[V]) bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}
