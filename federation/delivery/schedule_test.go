package delivery

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	schedule := DefaultSchedule()
	tests := []struct {
		name     string
		attempts int
		want     time.Duration
	}{
		{"after the first attempt", 1, 30 * time.Second},
		{"after the second attempt", 2, time.Minute},
		{"after the twelfth attempt", 12, 12 * time.Hour},
		{"after the thirteenth attempt", 13, 24 * time.Hour},
		{"long after the table ends", 40, 24 * time.Hour},
		{"before any attempt", 0, 30 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi := time.Duration(float64(tc.want)*(1-jitter)), time.Duration(float64(tc.want)*(1+jitter))
			for range 100 {
				if got := backoff(schedule, tc.attempts); got < lo || got > hi {
					t.Fatalf("backoff(%d) = %v, want %v ± 15%%", tc.attempts, got, tc.want)
				}
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header string
		want   time.Time
		wantOK bool
	}{
		{"seconds", "120", now.Add(2 * time.Minute), true},
		{"seconds with spaces", " 5 ", now.Add(5 * time.Second), true},
		{"zero seconds", "0", now, true},
		{"an HTTP date", "Sun, 01 Mar 2026 12:10:00 GMT", now.Add(10 * time.Minute), true},
		{"an HTTP date in the past", "Sun, 01 Mar 2026 11:00:00 GMT", now, true},
		{"a year of seconds is capped at a day", "31536000", now.Add(24 * time.Hour), true},
		{"a date next year is capped at a day", "Mon, 01 Mar 2027 12:00:00 GMT", now.Add(24 * time.Hour), true},
		{"seconds past int64", "99999999999999999999", time.Time{}, false},
		{"negative seconds", "-5", time.Time{}, false},
		{"garbage", "soon", time.Time{}, false},
		{"absent", "", time.Time{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := retryAfter(tc.header, now)
			if !got.Equal(tc.want) || ok != tc.wantOK {
				t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.header, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		status     int
		retryAfter string
		err        error
		want       classification
	}{
		{"200", http.StatusOK, "", nil, classification{verdict: delivered, host: hostOK}},
		{"202", http.StatusAccepted, "", nil, classification{verdict: delivered, host: hostOK}},
		{"204", http.StatusNoContent, "", nil, classification{verdict: delivered, host: hostOK}},
		{"404 gone inbox", http.StatusNotFound, "", nil, classification{verdict: gone, host: hostOK}},
		{"410 gone inbox", http.StatusGone, "", nil, classification{verdict: gone, host: hostOK}},
		{"429 with seconds", http.StatusTooManyRequests, "30", nil, classification{verdict: retry, host: hostFailed, wait: now.Add(30 * time.Second)}},
		{"429 without Retry-After", http.StatusTooManyRequests, "", nil, classification{verdict: retry, host: hostFailed, wait: now.Add(time.Minute)}},
		{"401 key not fetched yet", http.StatusUnauthorized, "", nil, classification{verdict: retry, host: hostOK}},
		{"408", http.StatusRequestTimeout, "", nil, classification{verdict: retry, host: hostFailed}},
		{"400 for one activity", http.StatusBadRequest, "", nil, classification{verdict: refused, host: hostOK}},
		{"403", http.StatusForbidden, "", nil, classification{verdict: refused, host: hostOK}},
		{"422", http.StatusUnprocessableEntity, "", nil, classification{verdict: refused, host: hostOK}},
		{"301 redirect", http.StatusMovedPermanently, "", nil, classification{verdict: refused, host: hostOK}},
		{"500", http.StatusInternalServerError, "", nil, classification{verdict: retry, host: hostFailed}},
		{"502", http.StatusBadGateway, "", nil, classification{verdict: retry, host: hostFailed}},
		{"503 with Retry-After is just a 5xx", http.StatusServiceUnavailable, "60", nil, classification{verdict: retry, host: hostFailed}},
		{"connection refused", 0, "", errors.New("connect: connection refused"), classification{verdict: retry, host: hostFailed}},
		{"timeout", 0, "", context.DeadlineExceeded, classification{verdict: retry, host: hostFailed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.status, tc.retryAfter, tc.err, now, time.Minute)
			if got != tc.want {
				t.Errorf("classify(%d, %q, %v) = %+v, want %+v", tc.status, tc.retryAfter, tc.err, got, tc.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		answer string
		err    error
		want   string
	}{
		{"empty answer", 503, "", nil, "HTTP 503"},
		{"short answer", 400, `{"error":"bad"}`, nil, `HTTP 400: {"error":"bad"}`},
		{"control characters and invalid UTF-8", 422, "a\nb\x00c\xff", nil, "HTTP 422: a b c"},
		{"long answer is cut", 400, string(make([]byte, 1000)) + "x", nil, "HTTP 400"},
		{"no answer", 0, "", errors.New("dial tcp: connection refused"), "dial tcp: connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := describe(tc.status, []byte(tc.answer), tc.err); got != tc.want {
				t.Errorf("describe(%d, %q, %v) = %q, want %q", tc.status, tc.answer, tc.err, got, tc.want)
			}
		})
	}
}

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
