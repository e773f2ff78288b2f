package storage

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

// oldPolicyApplies is how SQL matched policy rows p to a host before
// policyHosts: kept here as the rule the lookups must give.
const oldPolicyApplies = `(p.host = target.host
	OR substr(target.host, 1, length(p.host) + 1) = p.host || ':'
	OR substr(target.host, length(target.host) - length(p.host)) = '.' || p.host
	OR replace(target.host, '.' || p.host || ':', '') != target.host)`

// TestPolicyHostsMatchTheRule: for random hosts and policy rows, in both
// federation modes, HostAllowed and DomainPolicy decide as the SQL rule
// did (the row that applies, a block anywhere above winning, the most
// specific otherwise).
func TestPolicyHostsMatchTheRule(t *testing.T) {
	st := openForCommit(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	labels := []string{"a", "b", "gts", "test", "example", "social"}
	ports := []string{"", "", ":8443", ":80", ":9000"}
	randomHost := func() string {
		h := labels[rng.IntN(len(labels))]
		for range rng.IntN(3) {
			h = labels[rng.IntN(len(labels))] + "." + h
		}
		return h + ports[rng.IntN(len(ports))]
	}
	policies := []Policy{PolicyBlock, PolicySilence, PolicyRejectMedia, PolicyAllow}
	rows := map[string]Policy{}
	for range 40 {
		h, p := randomHost(), policies[rng.IntN(len(policies))]
		rows[h] = p
		if err := st.SetDomainPolicy(ctx, h, p, time.Unix(1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	oldPolicy := func(host string) Policy {
		var p string
		err := st.read.QueryRowContext(ctx, `SELECT p.policy FROM domain_policies p, (SELECT ? AS host) AS target WHERE `+oldPolicyApplies+`
			ORDER BY p.policy = 'block' DESC, length(p.host) DESC LIMIT 1`, host).Scan(&p)
		if errors.Is(err, sql.ErrNoRows) {
			return PolicyNone
		}
		if err != nil {
			t.Fatal(err)
		}
		return Policy(p)
	}
	oldApplies := func(host string, policy Policy) bool {
		var ok bool
		if err := st.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM domain_policies p, (SELECT ? AS host) AS target WHERE p.policy = ? AND `+oldPolicyApplies+`)`, host, policy).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	checked := 0
	for _, mode := range []string{ModeOpen, ModeAllowlist} {
		if err := st.SetSetting(ctx, "federation_mode", mode); err != nil {
			t.Fatal(err)
		}
		for range 400 {
			host := randomHost()
			want := !oldApplies(host, PolicyBlock) && (mode == ModeOpen || oldApplies(host, PolicyAllow))
			got, err := st.HostAllowed(ctx, host)
			if err != nil || got != want {
				t.Errorf("%s mode: HostAllowed(%q) = %v, %v; the rule says %v", mode, host, got, err, want)
			}
			wantPolicy := oldPolicy(host)
			gotPolicy, err := st.DomainPolicy(ctx, host)
			// Two rows of the same length may both apply (ab.cd and
			// cd:12 to ab.cd:12): the rule's order picks either.
			if err != nil || (gotPolicy != wantPolicy && !sameLengthTie(host, rows, gotPolicy, wantPolicy)) {
				t.Errorf("%s mode: DomainPolicy(%q) = %q, %v; the rule says %q", mode, host, gotPolicy, err, wantPolicy)
			}
			if wantPolicy != PolicyNone {
				checked++
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d hosts had a policy: the test covers too little", checked)
	}
}

// sameLengthTie reports whether policies a and b both apply to host
// through rows whose hosts have the longest length among the rows that
// apply (and no block applies).
func sameLengthTie(host string, rows map[string]Policy, a, b Policy) bool {
	longest := -1
	at := map[Policy]int{}
	for _, h := range policyHosts(host) {
		p, ok := rows[h]
		if !ok {
			continue
		}
		if p == PolicyBlock {
			return false
		}
		longest = max(longest, len(h))
		at[p] = max(at[p], len(h))
	}
	return at[a] == longest && at[b] == longest
}
