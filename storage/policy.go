package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	if _, err := s.write.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("set %s: %w", key, mapError(err))
	}
	return nil
}

// policyApplies is the one statement of which rows p of domain_policies
// apply to the host target.host. Both sides are normalized hosts
// (internal/hostname). A row applies to its own host, to every port of it
// when the row names no port, and to every subdomain, as Mastodon's domain
// blocks do: a policy for gts.test covers gts.test:8443 and a.gts.test.
const policyApplies = `(p.host = target.host
	OR substr(target.host, 1, length(p.host) + 1) = p.host || ':'
	OR substr(target.host, length(target.host) - length(p.host)) = '.' || p.host
	OR replace(target.host, '.' || p.host || ':', '') != target.host)`

// targetAllowed is the federation rule for target.host: no block applies,
// and in allowlist mode an allow applies. Every query that decides whether
// we talk to a host uses it: the inbox, fetches and deliveries alike.
const targetAllowed = `(NOT EXISTS (SELECT 1 FROM domain_policies p WHERE p.policy = 'block' AND ` + policyApplies + `)
	AND (COALESCE((SELECT value FROM settings WHERE key = 'federation_mode'), 'open') != 'allowlist'
		OR EXISTS (SELECT 1 FROM domain_policies p WHERE p.policy = 'allow' AND ` + policyApplies + `)))`

const hostAllowedQuery = `SELECT ` + targetAllowed + ` FROM (SELECT ? AS host) AS target`

// HostAllowed reports whether the instance federates with host, a
// normalized host: no block applies to it, and in allowlist mode an allow
// does.
func (s *Store) HostAllowed(ctx context.Context, host string) (bool, error) {
	var ok bool
	err := s.readRow(ctx, hostAllowedQuery, host).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("policy of %s: %w", host, err)
	}
	return ok, nil
}

// domainPolicyQuery picks the policy that applies to a host: a block
// anywhere above it wins, otherwise the most specific row.
const domainPolicyQuery = `
	SELECT p.policy FROM domain_policies p, (SELECT ? AS host) AS target
	WHERE ` + policyApplies + `
	ORDER BY p.policy = 'block' DESC, length(p.host) DESC LIMIT 1`

// DomainPolicy returns the policy that applies to a normalized host (its
// own, its domain's, or a block of any domain above it), "" when none does.
func (s *Store) DomainPolicy(ctx context.Context, host string) (Policy, error) {
	var p string
	err := s.readRow(ctx, domainPolicyQuery, host).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return PolicyNone, nil
	}
	if err != nil {
		return PolicyNone, fmt.Errorf("policy of %s: %w", host, err)
	}
	return Policy(p), nil
}
