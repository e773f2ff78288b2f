package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Policy is the federation policy of a host.
type Policy string

// Host policies.
const (
	PolicyNone        Policy = ""             // federate as usual
	PolicyBlock       Policy = "block"        // refuse its requests, send it nothing
	PolicySilence     Policy = "silence"      // keep its posts, announce none
	PolicyRejectMedia Policy = "reject_media" // keep its posts without their media
	PolicyAllow       Policy = "allow"        // a partner, in allowlist mode
)

// Valid reports whether p is a policy the store holds.
func (p Policy) Valid() bool {
	switch p {
	case PolicyNone, PolicyBlock, PolicySilence, PolicyRejectMedia, PolicyAllow:
		return true
	}
	return false
}

// Federation modes.
const (
	ModeOpen      = "open"
	ModeAllowlist = "allowlist"
)

// SetDomainPolicy sets the policy of a normalized host ("" removes it).
func (s *Store) SetDomainPolicy(ctx context.Context, host string, policy Policy, at time.Time) error {
	if !policy.Valid() {
		return fmt.Errorf("set policy of %s: unknown policy %q", host, policy)
	}
	var err error
	if policy == PolicyNone {
		_, err = s.write.ExecContext(ctx, `DELETE FROM domain_policies WHERE host = ?`, host)
	} else {
		_, err = s.write.ExecContext(ctx, `INSERT INTO domain_policies (host, policy, created_at) VALUES (?, ?, ?)
			ON CONFLICT (host) DO UPDATE SET policy = excluded.policy`, host, policy, toDB(at))
	}
	s.policies.forget()
	if err != nil {
		return fmt.Errorf("set policy of %s: %w", host, mapError(err))
	}
	return nil
}

// DomainPolicies lists every host policy.
func (s *Store) DomainPolicies(ctx context.Context) (map[string]Policy, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT host, policy FROM domain_policies ORDER BY host`)
	if err != nil {
		return nil, fmt.Errorf("domain policies: %w", err)
	}
	defer rows.Close()
	out := map[string]Policy{}
	for rows.Next() {
		var h, p string
		if err := rows.Scan(&h, &p); err != nil {
			return nil, fmt.Errorf("domain policies: %w", err)
		}
		out[h] = Policy(p)
	}
	return out, rows.Err()
}

// Setting returns an instance setting, or def when unset.
func (s *Store) Setting(ctx context.Context, key, def string) (string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return def, nil
	}
	if err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting writes an instance setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	s.policies.forget() // the federation mode is a setting
	if err != nil {
		return fmt.Errorf("set %s: %w", key, mapError(err))
	}
	return nil
}

// policyHosts returns every value of domain_policies.host that applies to
// host, a normalized host (internal/hostname): the host itself, the host
// without its port, and every domain above it, with and without the port.
// A row applies to its own host, to every port of it when the row names no
// port, and to every subdomain, as Mastodon's domain blocks do: a policy
// for gts.test covers gts.test:8443 and a.gts.test. The rows are then
// found by their key, one index seek each, however many policies there
// are: matching the rows against the host in SQL read every row, 3.4 ms
// per check with 5,000 blocked domains, and the check runs for every
// delivery, fetch and post (BenchmarkHostAllowed).
//
// As a set it is exactly what the earlier SQL matched: p = host; host
// starts with p + ":"; host ends with "." + p; host contains
// "." + p + ":" (TestPolicyHostsMatchTheRule).
func policyHosts(host string) []string {
	out := []string{host}
	for j := range len(host) {
		if host[j] == ':' {
			out = append(out, host[:j])
		}
	}
	for i := range len(host) {
		if host[i] != '.' {
			continue
		}
		out = append(out, host[i+1:])
		for j := i + 1; j < len(host); j++ {
			if host[j] == ':' {
				out = append(out, host[i+1:j])
			}
		}
	}
	return out
}

// rulesQuery reads the policy rows named in a JSON array, and the
// federation mode, in one statement: one row per policy, and a last row
// of kind 'mode'.
const rulesQuery = `
	SELECT 'policy', host, policy FROM domain_policies WHERE host IN (SELECT value FROM json_each(?1))
	UNION ALL
	SELECT 'mode', '', COALESCE((SELECT value FROM settings WHERE key = 'federation_mode'), 'open')`

// rules is the federation policy as it applies to some hosts: the rows
// that name any of them, and the federation mode.
type rules struct {
	rows      map[string]Policy
	allowlist bool
}

// queryFunc runs a query on a connection pool or in a transaction.
type queryFunc func(ctx context.Context, query string, args ...any) (*sql.Rows, error)

// rulesFor reads the policy rows that may apply to any of hosts, and the
// federation mode, with query.
func rulesFor(ctx context.Context, query queryFunc, hosts []string) (rules, error) {
	var names []string
	for _, h := range hosts {
		names = append(names, policyHosts(h)...)
	}
	list, err := json.Marshal(names)
	if err != nil {
		return rules{}, err
	}
	r := rules{rows: map[string]Policy{}}
	rows, err := query(ctx, rulesQuery, string(list))
	if err != nil {
		return rules{}, mapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, h, v string
		if err := rows.Scan(&kind, &h, &v); err != nil {
			return rules{}, mapError(err)
		}
		if kind == "mode" {
			r.allowlist = v == ModeAllowlist
		} else {
			r.rows[h] = Policy(v)
		}
	}
	return r, mapError(rows.Err())
}

// policy is the policy that applies to host: a block of it or of any
// domain above it wins, otherwise the row that names it most closely.
func (r rules) policy(host string) Policy {
	var best Policy
	bestLen := -1
	for _, h := range policyHosts(host) {
		p, ok := r.rows[h]
		switch {
		case !ok:
		case p == PolicyBlock:
			return PolicyBlock
		case len(h) > bestLen:
			best, bestLen = p, len(h)
		}
	}
	return best
}

// allowed is the federation rule for host: no block applies, and in
// allowlist mode an allow applies. The inbox, fetches and deliveries all
// decide with it.
func (r rules) allowed(host string) bool {
	blocked, allowed := false, false
	for _, h := range policyHosts(host) {
		switch r.rows[h] {
		case PolicyBlock:
			blocked = true
		case PolicyAllow:
			allowed = true
		}
	}
	return !blocked && (!r.allowlist || allowed)
}

// readQuery runs a query on the reader pool, prepared once per connection;
// like readRow, a lookup by key, not cancelled with ctx.
func (s *Store) readQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	st, err := s.reads.stmt(ctx, query)
	if err != nil {
		return s.read.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// HostAllowed reports whether the instance federates with host, a
// normalized host: no block applies to it, and in allowlist mode an allow
// does.
func (s *Store) HostAllowed(ctx context.Context, host string) (bool, error) {
	r, err := s.rulesOf(ctx, host)
	if err != nil {
		return false, fmt.Errorf("policy of %s: %w", host, err)
	}
	return r.allowed(host), nil
}

// DomainPolicy returns the policy that applies to a normalized host (its
// own, its domain's, or a block of any domain above it), "" when none does.
func (s *Store) DomainPolicy(ctx context.Context, host string) (Policy, error) {
	r, err := s.rulesOf(ctx, host)
	if err != nil {
		return PolicyNone, fmt.Errorf("policy of %s: %w", host, err)
	}
	return r.policy(host), nil
}

// rulesOf returns the rules for host, read at most policyCacheTTL ago
// (or by this store after its last policy write).
func (s *Store) rulesOf(ctx context.Context, host string) (rules, error) {
	now := time.Now()
	r, fresh, whole := s.policies.whole(now)
	if fresh && whole {
		return r, nil
	}
	if !fresh {
		r, whole, err := s.readWhole(ctx, now)
		if err != nil {
			return rules{}, fmt.Errorf("policy of %s: %w", host, err)
		}
		if whole {
			return r, nil
		}
	}
	r, gen, ok := s.policies.get(host, now)
	if ok {
		return r, nil
	}
	r, err := rulesFor(ctx, s.readQuery, []string{host})
	if err != nil {
		return rules{}, err
	}
	s.policies.put(host, r, gen, now)
	return r, nil
}

// readWhole reads every policy row, when there are at most the cache's
// max, and the mode, for the cache to answer every host from; whole says
// whether it did. One read at a time: the others wait for it.
func (s *Store) readWhole(ctx context.Context, now time.Time) (rules, bool, error) {
	c := s.policies
	c.reading.Lock()
	defer c.reading.Unlock()
	if r, fresh, whole := c.whole(now); fresh {
		return r, whole, nil
	}
	gen := c.generation()
	r := rules{rows: map[string]Policy{}}
	rows, err := s.readQuery(ctx, allRulesQuery, c.max+1)
	if err != nil {
		return rules{}, false, mapError(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var kind, h, v string
		if err := rows.Scan(&kind, &h, &v); err != nil {
			return rules{}, false, mapError(err)
		}
		if kind == "mode" {
			r.allowlist = v == ModeAllowlist
		} else {
			r.rows[h] = Policy(v)
			n++
		}
	}
	if err := rows.Err(); err != nil {
		return rules{}, false, mapError(err)
	}
	whole := n <= c.max
	c.putWhole(r, whole, gen, now)
	return r, whole, nil
}

// allRulesQuery reads up to ?1 policy rows, and the federation mode in a
// last row, as rulesQuery does.
const allRulesQuery = `
	SELECT 'policy', p.host, p.policy FROM (SELECT host, policy FROM domain_policies LIMIT ?1) AS p
	UNION ALL
	SELECT 'mode', '', COALESCE((SELECT value FROM settings WHERE key = 'federation_mode'), 'open')`

// policyCacheTTL is how long the rules read for a host are used again.
// The inbox checks every request's hosts, the worker every delivery's,
// each a query of ~10-20 us (a few % of a post's CPU at BM-1, issue 13),
// while policies change a few times a day. This store's own policy
// writes take effect at once; another process's (the CLI, or another
// server on a shared PostgreSQL database) within policyCacheTTL.
const policyCacheTTL = time.Second

// policyCacheSize bounds the hosts remembered: beyond it the cache is
// emptied (a flood of distinct hosts costs a query each, as without it).
const policyCacheSize = 10000

// policyWhole: with at most this many policy rows, the cache reads them
// all, once per TTL, and answers every host from them. Followers on 1,000
// hosts made the per-host reads 1,000 queries a second, 2% of the CPU of
// a fan-out (issue 13); a few thousand blocked domains (a shared
// blocklist) take the per-host reads, one index seek per name.
const policyWhole = 1000

// policyCache remembers the rules read for each host, or all of them. gen
// counts this store's policy writes: rules read while one happened are
// not kept.
type policyCache struct {
	ttl   time.Duration // policyCacheTTL; shorter in tests
	max   int           // policyWhole; smaller in tests
	mu    sync.Mutex
	gen   uint64
	hosts map[string]cachedRules
	// all is every row when allWhole, read at allAt (zero: to read).
	all      rules
	allWhole bool
	allAt    time.Time
	reading  sync.Mutex // held by the one reading all
}

type cachedRules struct {
	rules rules
	at    time.Time
}

func newPolicyCache() *policyCache {
	return &policyCache{ttl: policyCacheTTL, max: policyWhole, hosts: map[string]cachedRules{}}
}

// get returns the rules of host if read within policyCacheTTL, and the
// generation to hand to put otherwise.
func (c *policyCache) get(host string, now time.Time) (rules, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.hosts[host]
	if ok && now.Sub(e.at) < c.ttl {
		return e.rules, c.gen, true
	}
	return rules{}, c.gen, false
}

// whole returns the rules of every host when they were read within the
// TTL and are complete (whole); fresh says whether the last attempt to
// read them, complete or not, is within the TTL.
func (c *policyCache) whole(now time.Time) (r rules, fresh, whole bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.allAt.IsZero() || now.Sub(c.allAt) >= c.ttl {
		return rules{}, false, false
	}
	return c.all, true, c.allWhole
}

func (c *policyCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// putWhole keeps every host's rules read at now (or the news that there
// were too many), unless a policy write happened since gen.
func (c *policyCache) putWhole(r rules, whole bool, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	c.all, c.allWhole, c.allAt = r, whole, now
	if !whole {
		c.all = rules{}
	}
}

// put keeps rules read at now, unless a policy write happened since gen.
func (c *policyCache) put(host string, r rules, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.hosts) >= policyCacheSize {
		clear(c.hosts)
	}
	c.hosts[host] = cachedRules{rules: r, at: now}
}

// forget drops every remembered rule: called after each policy write of
// this store, whether or not it succeeded.
func (c *policyCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.hosts)
	c.all, c.allWhole, c.allAt = rules{}, false, time.Time{}
}
