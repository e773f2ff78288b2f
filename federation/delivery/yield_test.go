package delivery

import (
	"context"
	"testing"
	"time"
)

// A signature waits while an inbox request is in flight, and goes as soon
// as it ends.
func TestSignaturesWaitForInboxRequests(t *testing.T) {
	y := NewYield()
	y.Begin()
	done := make(chan struct{})
	go func() { y.wait(context.Background()); close(done) }()
	select {
	case <-done:
		t.Fatal("the signature went while an inbox request was in flight")
	case <-time.After(yieldMax / 4):
	}
	y.End()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the signature still waited 5 s after the inbox request ended")
	}
	// Nothing in flight: no wait at all, and no budget spent.
	before := y.budget
	y.wait(context.Background())
	if y.budget != before {
		t.Errorf("a wait with nothing in flight spent %v of the budget", before-y.budget)
	}
}

// A steady stream of inbox requests holds signatures back for at most the
// budget's share of the time: deliveries slow down, never stop.
func TestSteadyInboxRequestsDoNotStopSignatures(t *testing.T) {
	y := NewYield()
	y.budget, y.refill = 0, 0.5 // half of one signer's time
	y.Begin()                   // and never End
	start := time.Now()
	var waited time.Duration
	signatures := 0
	for time.Since(start) < time.Second {
		waited += y.wait(context.Background())
		signatures++
	}
	elapsed := time.Since(start)
	if limit := elapsed/2 + yieldMax; waited > limit {
		t.Errorf("signatures waited %v of %v with a budget of half the time (limit %v)", waited, elapsed, limit)
	}
	if signatures < 5 {
		t.Errorf("%d signatures in %v: the budget did not let them through", signatures, elapsed)
	}
}
