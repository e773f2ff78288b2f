package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// batch is what the writer has still to write.
type batch struct {
	outs  []storage.Outcome
	hosts []storage.HostResult
	// lastOK maps a host to the index in hosts of its last result when that
	// was a success: successes in a row collapse into the latest one.
	lastOK map[string]int
	// progress is how far the outcomes of fan-outs go, by fan-out.
	progress map[storage.FanOutRef]storage.FanOutProgress
	book     *fanOutBook
	// healthy maps a host to the time of the last success written for it
	// since its last failure: another success within hostSuccessEvery of
	// it is not written.
	healthy map[string]time.Time
}

// hostSuccessEvery is how often a success of a host that keeps answering
// is written. Each was an upsert of the host's row per batch, up to a
// hundred in a batch of a fan-out to a hundred hosts: ~5 µs a delivery
// (issue 13). A failure is always written, and so is the success after it.
const hostSuccessEvery = time.Minute

func (b *batch) add(r result) {
	if r.ended.ID != 0 {
		b.progress[r.ended.FanOutRef] = r.ended
		return
	}
	if r.keep {
		return
	}
	b.outs = append(b.outs, r.out)
	if d := r.out.FanOut; d != nil {
		if p, moved := b.book.settle(d); moved {
			b.progress[p.FanOutRef] = p
		}
	}
	if r.host == nil {
		return
	}
	h := *r.host
	if h.OK {
		if at, ok := b.healthy[h.Host]; ok && h.At.Sub(at) < hostSuccessEvery {
			return
		}
		if i, ok := b.lastOK[h.Host]; ok {
			b.hosts[i] = h
			return
		}
		b.lastOK[h.Host] = len(b.hosts)
	} else {
		delete(b.lastOK, h.Host)
		delete(b.healthy, h.Host)
	}
	b.hosts = append(b.hosts, h)
}

func (b *batch) empty() bool { return len(b.outs) == 0 && len(b.hosts) == 0 && len(b.progress) == 0 }

// write records results in batches, every flushEvery or flushSize outcomes,
// until results is closed; then it writes what is left and returns. A
// failed write is logged and tried again, once a second while it fails.
func (w *Worker) write(ctx context.Context, results <-chan result) error {
	b := &batch{lastOK: make(map[string]int), progress: make(map[storage.FanOutRef]storage.FanOutProgress), book: w.fanOuts, healthy: make(map[string]time.Time)}
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	var retryAt time.Time // zero while writes succeed
	flush := func() {
		if err := w.flush(ctx, b); err != nil {
			w.log.Error("record delivery outcomes", "err", err)
			retryAt = time.Now().Add(time.Second)
			return
		}
		retryAt = time.Time{}
	}
	for {
		select {
		case r, ok := <-results:
			if !ok {
				return w.flushLast(ctx, b)
			}
			b.add(r)
			if retryAt.IsZero() && len(b.outs) >= flushSize {
				flush()
			}
		case now := <-tick.C:
			if !b.empty() && !now.Before(retryAt) {
				flush()
			}
		}
	}
}

// flushLast writes the last batch, trying for a few seconds: a Run that
// never returned would be worse than deliveries repeated after a restart.
func (w *Worker) flushLast(ctx context.Context, b *batch) error {
	delay := 100 * time.Millisecond
	for i := 0; ; i++ {
		err := w.flush(ctx, b)
		if err == nil {
			return nil
		}
		if i == 8 {
			return fmt.Errorf("record %d delivery outcomes: %w", len(b.outs), err)
		}
		w.log.Error("record delivery outcomes", "err", err)
		t := time.NewTimer(delay)
		<-t.C
		delay = min(2*delay, time.Second)
	}
}

// flush writes the host results, then the outcomes. Host results go first
// so that a 429's wait is in place before its row can be claimed again.
func (w *Worker) flush(ctx context.Context, b *batch) error {
	if len(b.hosts) > 0 {
		if err := w.store.RecordHostResults(ctx, b.hosts); err != nil {
			return err
		}
		for _, i := range b.lastOK {
			b.healthy[b.hosts[i].Host] = b.hosts[i].At
		}
		b.hosts = b.hosts[:0]
		clear(b.lastOK)
	}
	if len(b.outs) == 0 && len(b.progress) == 0 {
		return nil
	}
	progress := make([]storage.FanOutProgress, 0, len(b.progress))
	for _, p := range b.progress {
		progress = append(progress, p)
	}
	if err := w.store.RecordOutcomes(ctx, b.outs, progress...); err != nil {
		return err
	}
	clear(b.progress)
	for _, o := range b.outs {
		if !o.Done && !o.Failed {
			w.noteRetry(o.NextAttemptAt)
		}
	}
	b.outs = b.outs[:0]
	// The rows are unclaimed: their hosts may take more now.
	signal(w.kick)
	return nil
}
