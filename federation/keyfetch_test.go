package federation

import (
	"testing"
	"time"
)

// TestRAT04KeyFetchBudgetRefills: a host's budget is KeyFetchBurst fetches
// at once, then one per KeyFetchEvery; other hosts have their own.
func TestRAT04KeyFetchBudgetRefills(t *testing.T) {
	l := newKeyFetchLimits()
	t0 := time.Unix(1000, 0)
	for i := range KeyFetchBurst {
		if why, _ := l.take("k"+itoa(i), "a.test", t0); why != fetchAllowed {
			t.Fatalf("fetch %d of the burst: %v, want allowed", i, why)
		}
	}
	why, wait := l.take("k-next", "a.test", t0)
	if why != hostOverBudget || wait != KeyFetchEvery {
		t.Errorf("fetch past the burst = %v, wait %v; want over budget, %v", why, wait, KeyFetchEvery)
	}
	if why, _ := l.take("k", "b.test", t0); why != fetchAllowed {
		t.Errorf("another host: %v, want allowed", why)
	}
	if why, _ := l.take("k-next", "a.test", t0.Add(KeyFetchEvery)); why != fetchAllowed {
		t.Errorf("after one refill: %v, want allowed", why)
	}
	l.failed("bad", t0)
	if why, _ := l.take("bad", "c.test", t0.Add(FailedKeyTTL-time.Second)); why != keyFailedBefore {
		t.Errorf("failed key id within its TTL: %v, want remembered", why)
	}
	if why, _ := l.take("bad", "c.test", t0.Add(FailedKeyTTL)); why != fetchAllowed {
		t.Errorf("failed key id after its TTL: %v, want allowed", why)
	}
}
