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

// TestFET10KeyFetchBudgetPerDomain: key ids on 1,000 subdomains of one
// domain share that domain's budget and fetch slots; another registrable
// domain, and each registrant under a public suffix, keep their own.
func TestFET10KeyFetchBudgetPerDomain(t *testing.T) {
	l := newKeyFetchLimits()
	t0 := time.Unix(1000, 0)
	allowed := 0
	for i := range 1000 {
		host := "sub" + itoa(i) + ".evil.example"
		if why, _ := l.take("https://"+host+"/key", host, t0); why == fetchAllowed {
			allowed++
		}
	}
	if allowed != KeyFetchBurst {
		t.Errorf("1,000 subdomains of one domain: %d fetches allowed, want %d", allowed, KeyFetchBurst)
	}
	for _, host := range []string{"good.example", "alice.github.io", "bob.github.io"} {
		if why, _ := l.take("https://"+host+"/key", host, t0); why != fetchAllowed {
			t.Errorf("%s after evil.example spent its budget: %v, want allowed", host, why)
		}
	}
	var dones []func()
	for i := range KeyFetchesPerHost {
		done, ok := l.start("slot" + itoa(i) + ".evil.example")
		if !ok {
			t.Fatalf("fetch %d under way to evil.example refused", i)
		}
		dones = append(dones, done)
	}
	if _, ok := l.start("another.evil.example"); ok {
		t.Errorf("a fetch to a further subdomain started while %d to its domain were under way", KeyFetchesPerHost)
	}
	if done, ok := l.start("good.example"); !ok {
		t.Error("a fetch to another domain refused")
	} else {
		done()
	}
	dones[0]()
	if _, ok := l.start("another.evil.example"); !ok {
		t.Error("a fetch to evil.example refused once a slot was free")
	}
}
