package delivery

import (
	"context"
	"errors"
	"net/http"
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
