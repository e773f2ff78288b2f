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
