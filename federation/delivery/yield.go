package delivery

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Yield lets incoming requests go before the worker's signatures (issue
// 13). An RSA signature is about a millisecond of CPU that nothing
// interrupts; with the deliveries of a few posts for 1,000 followers under
// way, posts coming in to the inbox shared the CPUs with them, and their
// p99 went from 56 ms to 144–436 ms on the 2-core machine of the README.
// So while the inbox has requests in flight (Begin, End), a signature
// waits for them to end: at most yieldMax, and only while the worker has
// budget for it. The budget refills so that the signers, all waiting as
// long as it lasts, leave half the CPUs free: with S signers (signersPerCPU
// per CPU) and N CPUs, S − N/2 signer-seconds per second, up to
// yieldBudget. A steady stream of incoming requests slows deliveries to
// half speed, never more. (With two signers per CPU and the budget of one,
// half of N, deliveries went on at full speed while posts came in: ingest
// p99 59-86 ms instead of 36-47 in the fan-out of the README.)
type Yield struct {
	mu       sync.Mutex
	inFlight int
	idle     chan struct{} // closed while nothing is in flight
	budget   time.Duration // signer-time the signatures may still wait
	at       time.Time     // when budget was last refilled
	refill   float64       // signer-seconds of budget per second
}

const (
	yieldMax    = 100 * time.Millisecond // the longest one signature waits
	yieldMin    = time.Millisecond       // no wait with less budget than this
	yieldBudget = time.Second            // the most waiting saved up
)

// NewYield returns a Yield with a full budget.
func NewYield() *Yield {
	idle := make(chan struct{})
	close(idle)
	cpus := float64(runtime.GOMAXPROCS(0))
	return &Yield{idle: idle, budget: yieldBudget, at: time.Now(), refill: signersPerCPU*cpus - cpus/2}
}

// Begin marks an incoming request in flight; End, its end.
func (y *Yield) Begin() {
	y.mu.Lock()
	if y.inFlight == 0 {
		y.idle = make(chan struct{})
	}
	y.inFlight++
	y.mu.Unlock()
}

// End marks the end of a request Begin marked.
func (y *Yield) End() {
	y.mu.Lock()
	y.inFlight--
	if y.inFlight == 0 {
		close(y.idle)
	}
	y.mu.Unlock()
}

// wait returns once no incoming request is in flight, after yieldMax, or
// when the budget runs out, whichever is first, and says how long it
// waited.
func (y *Yield) wait(ctx context.Context) time.Duration {
	if y == nil {
		return 0
	}
	y.mu.Lock()
	if y.inFlight == 0 {
		y.mu.Unlock()
		return 0
	}
	now := time.Now()
	y.budget = min(y.budget+time.Duration(float64(now.Sub(y.at))*y.refill), yieldBudget)
	y.at = now
	d, idle := min(yieldMax, y.budget), y.idle
	y.mu.Unlock()
	if d < yieldMin {
		return 0
	}
	t := time.NewTimer(d)
	select {
	case <-idle:
	case <-t.C:
	case <-ctx.Done():
	}
	t.Stop()
	waited := time.Since(now)
	y.mu.Lock()
	y.budget -= waited
	y.mu.Unlock()
	return waited
}
