package delivery

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// Lanes (SECURITY.md FLT-17, issue 12 item 7). Hosts that accept a
// connection and never answer must not take the slots that healthy hosts
// need: 300 such hosts, one request each, would otherwise fill the 256
// slots for a whole Timeout, and a genuine follower would wait behind them
// wave after wave. So the slots are in two lanes:
//
//   - the main lane (Options.Workers) takes every attempt at a host that
//     has not timed out. An attempt still without an answer after
//     Options.SlowAfter gives its main slot back and goes on in the slow
//     lane, within Options.SlowTimeout in all; when the slow lane is full
//     it is cut off and counts as a timeout.
//   - the slow lane (Options.SlowWorkers) takes the attempts at hosts whose
//     last attempt got no answer in time, each within Options.SlowTimeout.
//     When it is full, their rows are put back with the backoff instead of
//     waiting in the backlog.
//
// Rows of hosts that answered their last attempt start before the others,
// so a genuine follower does not even wait for SlowAfter.

// Errors that end an attempt without an answer: both count as a timeout.
var (
	errNoAnswer     = errors.New("no answer in time")
	errSlowLaneFull = errors.New("no answer yet and the slow lane is full")
)

// seat is the slot an attempt holds: a token in the main lane at first,
// in the slow lane once the attempt is demoted.
type seat struct {
	mu sync.Mutex
	// mu guards lane and timer.
	lane  chan struct{} // nil once given back
	timer *time.Timer   // the short deadline set on demotion
}

// take puts a token in lane and returns the seat holding it, or nil when
// the lane is full. It never blocks.
func take(lane chan struct{}) *seat {
	select {
	case lane <- struct{}{}:
		return &seat{lane: lane}
	default:
		return nil
	}
}

// move takes a token in to instead, unless to is full or the seat was
// given back; then deadline runs after left, unless the seat is given back
// first.
func (s *seat) move(to chan struct{}, left time.Duration, deadline func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lane == nil {
		return false
	}
	select {
	case to <- struct{}{}:
	default:
		return false
	}
	<-s.lane
	s.lane = to
	s.timer = time.AfterFunc(left, deadline)
	return true
}

// leave gives the token back.
func (s *seat) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lane != nil {
		<-s.lane
		s.lane = nil
	}
	if s.timer != nil {
		s.timer.Stop()
	}
}

// startDue starts the backlog's rows as their lanes have room, the rows
// of hosts that answered their last attempt first, and returns the rows
// still waiting for a main slot or for a slot of their host: a row does
// not take a lane's slot only to wait for its host's. Rows of slow hosts
// that find the slow lane full are put back.
func (w *Worker) startDue(ctx, sending context.Context, backlog []storage.Delivery, attempts *sync.WaitGroup, results chan<- result) []storage.Delivery {
	n := len(backlog)
	// The backlog is scanned each time a slot frees. When no host is slow,
	// every row needs a main slot, so the scan stops once the main lane is
	// full.
	mainOnly := !w.hosts.anySlow()
	mainFull := func() bool { return len(w.slots) == cap(w.slots) }
	if mainOnly && mainFull() {
		return backlog
	}
	// A host's standing and free slots are read once per call (the
	// backlog holds up to twice PerHost rows a host), and the slots
	// counted down as rows start.
	type view struct {
		good, slow bool
		free       int
	}
	views := make(map[string]*view)
	for _, goodPass := range []bool{true, false} {
		kept := backlog[:0]
		for i, d := range backlog {
			if mainOnly && mainFull() {
				kept = append(kept, backlog[i:]...)
				break
			}
			v := views[d.Host]
			if v == nil {
				v = &view{free: w.hosts.free(d.Host)}
				v.good, v.slow = w.hosts.standing(d.Host)
				views[d.Host] = v
			}
			switch {
			case goodPass && !v.good, v.free <= 0:
				kept = append(kept, d)
			case v.slow:
				v.free--
				if !w.start(ctx, sending, d, w.slow, attempts, results) {
					results <- w.own(d, w.putBack(d))
				}
			case w.start(ctx, sending, d, w.slots, attempts, results):
				v.free--
			default:
				kept = append(kept, d)
			}
		}
		backlog = kept
	}
	clear(backlog[len(backlog):n])
	return backlog
}

// putBack returns the row of a slow host that found the slow lane full to
// the queue with the backoff. Like a deferral, it counts as an attempt.
func (w *Worker) putBack(d storage.Delivery) result {
	now := w.now()
	w.log.Debug("delivery deferred", "inbox", d.Inbox, "host", d.Host, "err", "host slow, slow lane full")
	return w.retryAt(d, w.nextAttempt(d, now, time.Time{}), "deferred: host slow, slow lane full", nil)
}

// demote moves the attempt in s to the slow lane, with what is left of
// SlowTimeout, and frees its main slot; when the slow lane is full it
// cuts the attempt off.
func (w *Worker) demote(s *seat, cut context.CancelCauseFunc) {
	if s.move(w.slow, w.slowTimeout-w.slowAfter, func() { cut(errNoAnswer) }) {
		signal(w.freed)
		return
	}
	cut(errSlowLaneFull)
}

// isTimeout says whether an attempt's error means the host did not answer
// in time, as opposed to refusing or resetting the connection.
func isTimeout(err error) bool {
	if errors.Is(err, errNoAnswer) || errors.Is(err, errSlowLaneFull) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
