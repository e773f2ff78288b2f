package delivery

import (
	"cmp"
	"slices"
	"sync"

	"github.com/coppice-dev/coppice/storage"
)

// Fan-outs are sent from memory (storage.TakeFanOuts): their deliveries
// have no rows until an attempt must be retried, fails, or is never made.
// The worker writes how far the outcomes of each fan-out go, so that a
// process that dies sends again only the inboxes whose outcome it had not
// written, and deletes the fan-out's row with its last outcome.

// fanOutBook follows the fan-outs whose deliveries the worker holds: for
// each, which of the inboxes it took have their outcome.
type fanOutBook struct {
	mu sync.Mutex
	// mu guards open.
	open map[storage.FanOutRef]*fanOutState
}

type fanOutState struct {
	inboxes []string // in the order taken (Delivery.Seq)
	done    []bool
	next    int  // the first inbox without an outcome
	more    bool // inboxes are left to take (storage.Taken.More)
}

func newFanOutBook() *fanOutBook { return &fanOutBook{open: map[storage.FanOutRef]*fanOutState{}} }

func refOf(d *storage.Delivery) storage.FanOutRef {
	return storage.FanOutRef{ID: d.FanOut, ActivityID: d.ActivityID}
}

// resumable lists the fan-outs with inboxes left to take.
func (b *fanOutBook) resumable() []storage.FanOutRef {
	b.mu.Lock()
	defer b.mu.Unlock()
	var refs []storage.FanOutRef
	for r, s := range b.open {
		if s.more {
			refs = append(refs, r)
		}
	}
	slices.SortFunc(refs, func(a, b storage.FanOutRef) int { return cmp.Compare(a.ID, b.ID) })
	return refs
}

// add opens or extends the fan-outs of what a take that was asked to
// resume resumed found, before any of their outcomes can come, and
// renumbers the deliveries of a resumed fan-out after those taken
// before. It returns the progress to write of the fan-outs that ended
// with every outcome already recorded.
func (b *fanOutBook) add(taken *storage.Taken, resumed []storage.FanOutRef) []storage.FanOutProgress {
	b.mu.Lock()
	defer b.mu.Unlock()
	base := map[storage.FanOutRef]int{}
	for _, r := range resumed {
		if s := b.open[r]; s != nil {
			base[r] = len(s.inboxes)
			s.more = false // unless the take says so below
		}
	}
	for i := range taken.Deliveries {
		d := &taken.Deliveries[i]
		r := refOf(d)
		s := b.open[r]
		if n, ok := base[r]; ok {
			d.Seq += n
		} else if d.Seq == 0 || s == nil {
			// A fan-out taken anew (its lease ran out) starts over.
			s = &fanOutState{}
			b.open[r] = s
		}
		s.inboxes = append(s.inboxes, d.Inbox)
		s.done = append(s.done, false)
	}
	for _, r := range taken.More {
		if s := b.open[r]; s != nil {
			s.more = true
		}
	}
	var ended []storage.FanOutProgress
	for _, r := range resumed {
		if s := b.open[r]; s != nil && !s.more && s.next == len(s.done) {
			delete(b.open, r)
			ended = append(ended, storage.FanOutProgress{FanOutRef: r, Done: true})
		}
	}
	return ended
}

// settle records the outcome of d and returns how far its fan-out's
// outcomes now go, and whether that moved. The fan-out is done once every
// inbox taken has its outcome and none is left to take.
func (b *fanOutBook) settle(d *storage.Delivery) (storage.FanOutProgress, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := refOf(d)
	s := b.open[r]
	if s == nil || d.Seq >= len(s.done) || s.done[d.Seq] {
		return storage.FanOutProgress{}, false
	}
	s.done[d.Seq] = true
	from := s.next
	for s.next < len(s.done) && s.done[s.next] {
		s.next++
	}
	if s.next == from {
		return storage.FanOutProgress{}, false
	}
	if s.next == len(s.done) && !s.more {
		delete(b.open, r)
		return storage.FanOutProgress{FanOutRef: r, Done: true}, true
	}
	return storage.FanOutProgress{FanOutRef: r, DoneThrough: s.inboxes[s.next-1]}, true
}

// own makes r the outcome of d: for a delivery taken from a fan-out, the
// outcome names it, so that its row is written if it must be, and an
// attempt not made queues its row.
func (w *Worker) own(d storage.Delivery, r result) result {
	if d.FanOut == 0 {
		return r
	}
	if r.keep {
		return w.unsent(d)
	}
	r.out.FanOut = &d
	return r
}

// unsent is the outcome of a delivery taken from a fan-out that was not
// attempted: its row is queued, due at once.
func (w *Worker) unsent(d storage.Delivery) result {
	return result{out: storage.Outcome{FanOut: &d, Unsent: true, NextAttemptAt: w.now()}}
}

// spill queues, for later claims, the deliveries of a fan-out whose hosts
// already have claimPerHost×PerHost in the backlog, and returns the
// others appended to backlog: a slow host must not fill the backlog with
// its deliveries, which the claims of rows bound per host (FLT-05).
func (w *Worker) spill(backlog, taken []storage.Delivery, results chan<- result) []storage.Delivery {
	held := map[string]int{}
	for _, d := range backlog {
		held[d.Host]++
	}
	for _, d := range taken {
		if d.FanOut != 0 && held[d.Host] >= claimPerHost*w.perHost {
			results <- w.unsent(d)
			continue
		}
		held[d.Host]++
		backlog = append(backlog, d)
	}
	return backlog
}
