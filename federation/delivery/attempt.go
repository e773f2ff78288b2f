package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/coppice-dev/coppice/storage"
)

// contentType is what we send and ask for. Mastodon reads both
// application/activity+json and the ld+json profile; every peer reads this.
const contentType = "application/activity+json"

// result is what one attempt leaves to write: the outcome of its delivery
// and, when it learned something, the health of its host.
type result struct {
	out  storage.Outcome
	host *storage.HostResult
	keep bool // nothing to write: no attempt was made
	// ended, when its ID is set, is the only thing to write: a fan-out
	// whose outcomes were all written before it ran out of inboxes.
	ended storage.FanOutProgress
}

// attempt makes one attempt at d in seat s and returns what to record. It
// never fails: every error becomes an outcome.
//
// ctx only stops a wait for a busy host. The request itself runs under
// sending, which outlives ctx by the worker's Drain, and to its own
// deadline, so that what was sent is recorded: Timeout in the main lane,
// SlowTimeout in the slow lane. In the main lane, a request without an
// answer after SlowAfter is demoted to the slow lane or cut off.
func (w *Worker) attempt(ctx, sending context.Context, d storage.Delivery, s *seat) result {
	timeout := w.timeout
	if s.lane == w.slow {
		timeout = w.slowTimeout
	}
	cctx, cut := context.WithCancelCause(sending)
	defer cut(nil)
	actx, cancel := context.WithTimeoutCause(cctx, timeout, errNoAnswer)
	defer cancel()
	n := d.Attempts + 1
	log := attemptLog{w.log, []any{"inbox", d.Inbox, "host", d.Host, "attempt", n}}

	act, err := w.activity(actx, d)
	if errors.Is(err, storage.ErrNotFound) {
		return w.fail(d, fmt.Sprintf("activity %d not found", d.ActivityID))
	}
	if err != nil {
		log.Error("load activity", "err", err)
		return w.retryLater(d, w.now(), err.Error())
	}
	log = log.with("activity_iri", act.IRI)
	if act.Withdrawn {
		// The post it is about was deleted meanwhile (an Announce of its
		// Create after its Delete would bring it back): it need not leave.
		log.Debug("delivery dropped: the activity was withdrawn")
		w.dropped.Add(1)
		return result{out: storage.Outcome{ID: d.ID, Done: true, Kind: storage.OutcomeDropped, At: w.now()}}
	}
	if now := w.now(); now.Sub(d.QueuedAt) > w.giveUp {
		return w.abandon(log, d, d.LastError)
	}

	release, err := w.hosts.acquire(ctx, d.Host)
	if err != nil {
		// Stopped while the host was busy: nothing happened, and the row
		// keeps its lease until the next Run releases it.
		return result{keep: true}
	}
	defer release()
	now := w.now()
	if until, why := w.hosts.heldUntil(d.Host, now); !until.IsZero() {
		// FLT-03: the host answered 429 after this row was claimed; or
		// FLT-02: it keeps failing and another delivery is its probe. The
		// row counts one more attempt, although none was made: storage
		// has no other way to put it back.
		log.Debug("delivery deferred", "err", why)
		w.retried.Add(1)
		return result{out: storage.Outcome{ID: d.ID, NextAttemptAt: until, Error: "deferred: " + why, Kind: storage.OutcomeRetried, At: now}}
	}

	key, err := w.keys.get(actx, act.CommunityID, now)
	if errors.Is(err, storage.ErrNotFound) {
		return w.fail(d, fmt.Sprintf("no signing key for community %d", act.CommunityID))
	}
	if err != nil {
		log.Error("load signing key", "err", err)
		return w.retryLater(d, now, err.Error())
	}
	req, err := w.request(actx, d.Inbox, act, key, now)
	if err != nil {
		log.Error("prepare delivery", "err", err)
		return w.fail(d, err.Error())
	}

	var demote *time.Timer
	if s.lane == w.slots {
		demote = time.AfterFunc(w.slowAfter, func() { w.demote(s, cut) })
	}
	status, header, answer, err := w.send(req)
	if demote != nil {
		demote.Stop()
	}
	if err != nil && sending.Err() == nil {
		if cause := context.Cause(actx); cause != nil {
			err = fmt.Errorf("%w: %w", cause, err)
		}
	}
	done := w.now()
	switch {
	case err == nil:
		w.hosts.answered(d.Host, done)
	case isTimeout(err):
		w.hosts.timedOut(d.Host, done)
	}
	c := classify(status, header.Get("Retry-After"), err, done, w.schedule[0])
	msg := describe(status, answer, err)
	if err != nil {
		log.Debug("delivery attempt", "err", err)
	} else {
		log.Debug("delivery attempt", "status", status)
	}
	if status == http.StatusUnauthorized {
		// FLT-14: our clock or key may be wrong; the console shows it.
		w.unauthorized.Add(1)
	}

	var host *storage.HostResult
	switch c.host {
	case hostOK:
		host = &storage.HostResult{Host: d.Host, At: done, OK: true}
	case hostFailed:
		host = &storage.HostResult{Host: d.Host, At: done, Error: msg, Wait: c.wait, GiveUp: HostGiveUp, MaxFail: HostMaxFail}
	}
	if !c.wait.IsZero() {
		w.hosts.setWait(d.Host, c.wait, done)
	}
	next := w.nextAttempt(d, done, c.wait)
	switch c.host {
	case hostOK:
		w.hosts.succeeded(d.Host, done)
	case hostFailed:
		w.hosts.failed(d.Host, done, next, msg)
	}
	switch c.verdict {
	case delivered:
		w.delivered.Add(1)
		return result{out: storage.Outcome{ID: d.ID, Done: true, Kind: storage.OutcomeDelivered, At: done}, host: host}
	case gone:
		log.Warn("inbox gone", "status", status)
		w.dropped.Add(1)
		return result{out: storage.Outcome{ID: d.ID, Done: true, Kind: storage.OutcomeDropped, At: done}, host: host}
	case refused:
		log.Warn("delivery refused", "status", status, "err", msg)
		r := w.fail(d, msg)
		r.host = host
		return r
	default:
		if next.Sub(d.QueuedAt) > w.giveUp {
			// The retry would come after the give-up time: give up now.
			r := w.abandon(log, d, msg)
			r.host = host
			return r
		}
		return w.retryAt(d, next, msg, host)
	}
}

// activity returns d's activity: for a first attempt from the cache, so
// that the rows of a fan-out share one copy (loaded again after
// activityTTL), for a retry from the store, since the activity may have
// been withdrawn since its first attempt.
func (w *Worker) activity(ctx context.Context, d storage.Delivery) (storage.OutboxActivity, error) {
	if d.Attempts > 0 {
		return w.store.OutboxActivityByID(ctx, d.ActivityID)
	}
	return w.activities.get(ctx, d.ActivityID, w.now())
}

// request builds the signed POST of act to inbox.
func (w *Worker) request(ctx context.Context, inbox string, act storage.OutboxActivity, key *signature.Key, now time.Time) (*http.Request, error) {
	// The body is shared by every delivery of act, never copied.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, inbox, bytes.NewReader(act.Body))
	if err != nil {
		return nil, fmt.Errorf("build delivery to %s: %w", inbox, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", contentType)
	if w.userAgent != "" {
		req.Header.Set("User-Agent", w.userAgent)
	}
	// At most signersPerCPU×GOMAXPROCS signatures at once: RSA signing is
	// most of a delivery's CPU, and hundreds of attempts signing together
	// would take the CPU from the inbox's handlers without signing any
	// faster.
	select {
	case w.signing <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("sign delivery to %s: %w", inbox, context.Cause(ctx))
	}
	w.yield.wait(ctx) // incoming requests first
	err = key.Sign(req, act.Body, act.KeyID, now)
	<-w.signing
	if err != nil {
		return nil, fmt.Errorf("sign delivery to %s: %w", inbox, err)
	}
	return req, nil
}

// send posts req and reads at most maxAnswer bytes of the answer, so the
// connection can be reused. It returns the first bytes for the logs.
func (w *Worker) send(req *http.Request) (status int, header http.Header, answer []byte, err error) {
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, http.Header{}, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The peer said yes; a broken body after that changes nothing.
		err = nil
	}
	if err != nil {
		return 0, http.Header{}, nil, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// describe makes the short error text stored with a delivery and logged:
// the status and the start of the peer's answer, made safe to print.
func describe(status int, answer []byte, err error) string {
	if err != nil {
		return err.Error()
	}
	const keep = 200
	if len(answer) > keep {
		answer = answer[:keep]
	}
	text := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(answer), ""))
	text = strings.TrimSpace(text)
	if text == "" {
		return fmt.Sprintf("HTTP %d", status)
	}
	return fmt.Sprintf("HTTP %d: %s", status, text)
}

// nextAttempt is when to try d again after an attempt that ended at now:
// the later of the backoff and wait, when the host asked us to wait.
func (w *Worker) nextAttempt(d storage.Delivery, now, wait time.Time) time.Time {
	next := now.Add(backoff(w.schedule, d.Attempts+1))
	if wait.After(next) {
		return wait
	}
	return next
}

// retryLater schedules the next attempt after a failure of our own.
func (w *Worker) retryLater(d storage.Delivery, now time.Time, msg string) result {
	return w.retryAt(d, w.nextAttempt(d, now, time.Time{}), msg, nil)
}

func (w *Worker) retryAt(d storage.Delivery, next time.Time, msg string, host *storage.HostResult) result {
	w.retried.Add(1)
	return result{out: storage.Outcome{ID: d.ID, NextAttemptAt: next, Error: msg, Kind: storage.OutcomeRetried, At: w.now()}, host: host}
}

// fail marks d failed for good.
func (w *Worker) fail(d storage.Delivery, msg string) result {
	w.failed.Add(1)
	return result{out: storage.Outcome{ID: d.ID, Failed: true, Error: msg, Kind: storage.OutcomeFailed, At: w.now()}}
}

// abandon gives d up: it was queued longer ago than GiveUp, or its next
// retry would be.
func (w *Worker) abandon(log attemptLog, d storage.Delivery, msg string) result {
	log.Warn("delivery given up", "err", msg)
	if msg == "" {
		msg = "given up"
	} else {
		msg = "given up: " + msg
	}
	return w.fail(d, msg)
}

// attemptLog logs about one attempt. Its attributes are formatted only
// when a line is written: slog.Logger.With formats them at once, which
// cost 1% of the worker's CPU in a fan-out logged at Info (issue 13).
type attemptLog struct {
	l     *slog.Logger
	attrs []any
}

func (a attemptLog) with(args ...any) attemptLog {
	return attemptLog{a.l, append(slices.Clip(a.attrs), args...)}
}

func (a attemptLog) log(level slog.Level, msg string, args []any) {
	if a.l.Enabled(context.Background(), level) {
		a.l.Log(context.Background(), level, msg, append(slices.Clip(a.attrs), args...)...)
	}
}

func (a attemptLog) Debug(msg string, args ...any) { a.log(slog.LevelDebug, msg, args) }
func (a attemptLog) Warn(msg string, args ...any)  { a.log(slog.LevelWarn, msg, args) }
func (a attemptLog) Error(msg string, args ...any) { a.log(slog.LevelError, msg, args) }
