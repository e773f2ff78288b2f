package delivery

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/federation/fetch"
)

// DefaultSchedule returns the retry delays by number of attempts made, as
// documented in the package comment. The last delay repeats.
func DefaultSchedule() []time.Duration {
	return []time.Duration{
		30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute,
		10 * time.Minute, 20 * time.Minute, 40 * time.Minute, time.Hour,
		2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour,
		24 * time.Hour,
	}
}

// jitter is the relative spread applied to every retry delay.
const jitter = 0.15

// maxRetryAfter caps how long a host may ask us to wait with Retry-After,
// so a hostile or broken value cannot park its deliveries until they are
// given up.
const maxRetryAfter = 24 * time.Hour

// backoff returns the jittered delay after the given number of attempts
// (1 after the first attempt).
func backoff(schedule []time.Duration, attempts int) time.Duration {
	i := min(max(attempts-1, 0), len(schedule)-1)
	d := float64(schedule[i]) * (1 - jitter + 2*jitter*rand.Float64())
	return time.Duration(d)
}

// retryAfter reads a Retry-After header, given in seconds or as an HTTP
// date (RFC 9110 §10.2.3), and returns the time before which the host wants
// nothing from us. It returns false when the header is absent or malformed.
func retryAfter(h string, now time.Time) (time.Time, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return time.Time{}, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs < 0 {
			return time.Time{}, false
		}
		d = time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	} else {
		t, err := http.ParseTime(h)
		if err != nil {
			return time.Time{}, false
		}
		d = min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return now.Add(d), true
}

// verdict is what one attempt means for its delivery.
type verdict int

const (
	delivered verdict = iota // 2xx: the row is deleted
	gone                     // 404, 410: the row is deleted
	retry                    // try again later
	refused                  // this delivery fails for good
)

// hostVerdict is what one attempt means for the health of its host.
type hostVerdict int

const (
	hostUnknown hostVerdict = iota // the attempt says nothing about the host
	hostOK                         // the host answered
	hostFailed                     // 5xx, network error or timeout
)

// classification is the reading of one HTTP answer (or of its absence).
type classification struct {
	verdict verdict
	host    hostVerdict
	// wait, for a 429, is when the host is willing to hear from us again.
	wait time.Time
}

// classify reads the status of an answer, or err when there was none.
// retryAfterHeader is the answer's Retry-After; defaultWait is how long to
// leave a host alone after a 429 that does not say.
func classify(status int, retryAfterHeader string, err error, now time.Time, defaultWait time.Duration) classification {
	if errors.Is(err, fetch.ErrRefusedHost) {
		// FET-13: the federation policy refuses the host; nothing was sent,
		// and nothing will be while the policy stands.
		return classification{verdict: refused, host: hostUnknown}
	}
	if err != nil {
		// Refused connections, resets, DNS failures and timeouts (FLT-01, FLT-05).
		return classification{verdict: retry, host: hostFailed}
	}
	switch {
	case status >= 200 && status < 300:
		return classification{verdict: delivered, host: hostOK}
	case status == http.StatusNotFound || status == http.StatusGone:
		// FLT-04: the inbox is gone; the host itself answered.
		return classification{verdict: gone, host: hostOK}
	case status == http.StatusTooManyRequests:
		// FLT-03 (Mastodon #26078: ignoring 429 gets the sender banned).
		wait, ok := retryAfter(retryAfterHeader, now)
		if !ok {
			wait = now.Add(defaultWait)
		}
		return classification{verdict: retry, host: hostFailed, wait: wait}
	case status == http.StatusUnauthorized:
		// Mastodon answers 401 when it cannot fetch our key yet or our
		// clock is off (FLT-14): worth retrying, and the host is up.
		return classification{verdict: retry, host: hostOK}
	case status == http.StatusRequestTimeout:
		return classification{verdict: retry, host: hostFailed}
	case status >= 500:
		return classification{verdict: retry, host: hostFailed}
	default:
		// FLT-04: 400, 403, 422 … refuse this activity only; 3xx is refused
		// because a signed POST must not be redirected.
		return classification{verdict: refused, host: hostOK}
	}
}
