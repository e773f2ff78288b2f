package delivery

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCacheLoadsOnceForManyCallers(t *testing.T) {
	t.Parallel()
	var loads atomic.Int32
	release := make(chan struct{})
	c := newCache(4, 0, func(_ context.Context, k int) ([]byte, error) {
		loads.Add(1)
		<-release
		return []byte("body"), nil
	})
	var wg sync.WaitGroup
	bodies := make([][]byte, 50)
	for i := range bodies {
		wg.Go(func() {
			b, err := c.get(context.Background(), 1, time.Now())
			if err != nil {
				t.Errorf("get(1) = %v", err)
			}
			bodies[i] = b
		})
	}
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("loaded %d times, want once", n)
	}
	for i, b := range bodies {
		if &b[0] != &bodies[0][0] {
			t.Fatalf("caller %d got its own copy of the body, want the shared one", i)
		}
	}
}

func TestCacheForgetsFailedLoadsAndStaysBounded(t *testing.T) {
	t.Parallel()
	fail := true
	c := newCache(2, time.Minute, func(_ context.Context, k int) (int, error) {
		if fail {
			return 0, errors.New("database busy")
		}
		return k * 10, nil
	})
	now := time.Now()
	if _, err := c.get(context.Background(), 1, now); err == nil {
		t.Fatal("get(1) with a failing load = nil error, want the error")
	}
	fail = false
	if v, err := c.get(context.Background(), 1, now); v != 10 || err != nil {
		t.Errorf("get(1) after a failed load = %d, %v; want 10, nil", v, err)
	}
	for k := range 10 {
		if _, err := c.get(context.Background(), k, now); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.entries); n > 2 {
		t.Errorf("cache holds %d entries, want at most 2", n)
	}
}

func TestCacheReloadsAfterTTL(t *testing.T) {
	t.Parallel()
	version := 1
	c := newCache(8, time.Minute, func(context.Context, int) (int, error) { return version, nil })
	now := time.Now()
	c.get(context.Background(), 1, now)
	version = 2
	if v, _ := c.get(context.Background(), 1, now.Add(30*time.Second)); v != 1 {
		t.Errorf("get within the TTL = %d, want the cached 1", v)
	}
	if v, _ := c.get(context.Background(), 1, now.Add(2*time.Minute)); v != 2 {
		t.Errorf("get after the TTL = %d, want the reloaded 2", v)
	}
}
