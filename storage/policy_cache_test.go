package storage

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestPolicyCache: a store's own policy writes (a block, the federation
// mode) apply to its next check at once; another store on the same
// database (the CLI, a second process) sees them once the rules it read
// are older than the cache's TTL, and not before: the checks are served
// from memory meanwhile.
func TestPolicyCache(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "policy.db")
	open := func() *Store {
		st, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	a, b := open(), open()
	const ttl = 200 * time.Millisecond
	b.policies.ttl = ttl
	allowed := func(st *Store, host string) bool {
		t.Helper()
		ok, err := st.HostAllowed(ctx, host)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !allowed(a, "spam.test") || !allowed(b, "spam.test") || !allowed(a, "other.test") {
		t.Fatal("hosts refused before any policy")
	}
	if err := a.SetDomainPolicy(ctx, "spam.test", PolicyBlock, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	read := time.Now()
	if allowed(a, "spam.test") {
		t.Error("a store's own block does not apply to its next check")
	}
	if p, err := a.DomainPolicy(ctx, "x.spam.test"); err != nil || p != PolicyBlock {
		t.Errorf("DomainPolicy after the store's own block = %q, %v", p, err)
	}
	if stale := allowed(b, "spam.test"); !stale && time.Since(read) < ttl/2 {
		t.Error("the other store read the block at once: its checks are not served from memory")
	}
	time.Sleep(ttl)
	if allowed(b, "spam.test") {
		t.Errorf("the other store still allows a host blocked %v ago (TTL %v)", time.Since(read), ttl)
	}
	if err := a.SetSetting(ctx, "federation_mode", ModeAllowlist); err != nil {
		t.Fatal(err)
	}
	if allowed(a, "other.test") {
		t.Error("allowlist mode does not apply to the store's next check")
	}
}

// TestPolicyCacheDropsRulesReadAcrossAWrite: rules read before a policy
// write, and kept after it, are not kept (the query may have seen the
// database before the write).
func TestPolicyCacheDropsRulesReadAcrossAWrite(t *testing.T) {
	c := newPolicyCache()
	now := time.Now()
	old := rules{rows: map[string]Policy{}}
	_, gen, ok := c.get("spam.test", now)
	if ok {
		t.Fatal("empty cache returned rules")
	}
	c.forget() // a policy write while the rules were read
	c.put("spam.test", old, gen, now)
	if _, _, ok := c.get("spam.test", now); ok {
		t.Error("rules read before a write were kept")
	}
	_, gen, _ = c.get("spam.test", now)
	c.put("spam.test", old, gen, now)
	if _, _, ok := c.get("spam.test", now); !ok {
		t.Error("rules read after the last write were not kept")
	}
	if _, _, ok := c.get("spam.test", now.Add(c.ttl)); ok {
		t.Error("rules kept past the TTL")
	}
}

// twoStores opens two stores on one SQLite file: a writes policies, b
// checks them through its cache, whose TTL is set to ttl.
func twoStores(t *testing.T, ttl time.Duration) (a, b *Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.db")
	open := func() *Store {
		st, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	a, b = open(), open()
	b.policies.ttl = ttl
	return a, b
}

func hostAllowed(t *testing.T, st *Store, host string) bool {
	t.Helper()
	ok, err := st.HostAllowed(context.Background(), host)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestPolicyCacheReadsEveryRuleAtOnce: with few policies, one read serves
// every host for the TTL, hosts never asked about included; a block
// written meanwhile by another process counts once the read is older
// than the TTL.
func TestPolicyCacheReadsEveryRuleAtOnce(t *testing.T) {
	ctx := context.Background()
	const ttl = 300 * time.Millisecond
	a, b := twoStores(t, ttl)
	if err := a.SetDomainPolicy(ctx, "spam.test", PolicyBlock, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	read := time.Now()
	if hostAllowed(t, b, "sub.spam.test") || !hostAllowed(t, b, "fine.test") {
		t.Fatal("rules read at once: a subdomain of a blocked host allowed, or another host refused")
	}
	if err := a.SetDomainPolicy(ctx, "later.test", PolicyBlock, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if stale := hostAllowed(t, b, "later.test"); !stale && time.Since(read) < ttl/2 {
		t.Error("a host never asked about was read on its own: the rules were not all read at once")
	}
	time.Sleep(ttl)
	if hostAllowed(t, b, "later.test") {
		t.Errorf("a block written %v ago (TTL %v) does not count", time.Since(read), ttl)
	}
}

// TestPolicyCacheWithMoreRulesThanItReadsAtOnce: beyond the cache's max,
// each host's rules are read on their own, and as right.
func TestPolicyCacheWithMoreRulesThanItReadsAtOnce(t *testing.T) {
	ctx := context.Background()
	a, b := twoStores(t, time.Minute)
	b.policies.max = 2
	for _, h := range []string{"one.test", "two.test", "three.test"} {
		if err := a.SetDomainPolicy(ctx, h, PolicyBlock, time.Unix(1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if hostAllowed(t, b, "one.test") || hostAllowed(t, b, "x.three.test") || !hostAllowed(t, b, "fine.test") {
		t.Fatal("wrong answer from the rules read host by host")
	}
	if err := a.SetDomainPolicy(ctx, "later.test", PolicyBlock, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if hostAllowed(t, b, "later.test") {
		t.Error("a host never asked about was answered from rules read before its block: want its own read")
	}
}
