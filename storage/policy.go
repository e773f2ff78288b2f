package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Federation modes.
const (
	ModeOpen      = "open"
	ModeAllowlist = "allowlist"
)

// SetDomainPolicy sets the policy of a host ("" removes it).
func (s *Store) SetDomainPolicy(ctx context.Context, host, policy string, at time.Time) error {
	host = strings.ToLower(host)
	var err error
	if policy == "" {
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
func (s *Store) DomainPolicies(ctx context.Context) (map[string]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT host, policy FROM domain_policies ORDER BY host`)
	if err != nil {
		return nil, fmt.Errorf("domain policies: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var h, p string
		if err := rows.Scan(&h, &p); err != nil {
			return nil, fmt.Errorf("domain policies: %w", err)
		}
		out[h] = p
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

// HostAllowed reports whether the instance federates with host: not
// blocked, and in allowlist mode explicitly allowed.
func (s *Store) HostAllowed(ctx context.Context, host string) (bool, error) {
	var ok bool
	err := s.read.QueryRowContext(ctx, hostAllowedQuery, strings.ToLower(host)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("policy of %s: %w", host, err)
	}
	return ok, nil
}

const hostAllowedQuery = `
	SELECT NOT EXISTS (SELECT 1 FROM domain_policies WHERE host = ?1 AND policy = 'block')
		AND (COALESCE((SELECT value FROM settings WHERE key = 'federation_mode'), 'open') != 'allowlist'
			OR EXISTS (SELECT 1 FROM domain_policies WHERE host = ?1 AND policy = 'allow'))`

// DomainPolicy returns the policy of one host, "" when it has none.
func (s *Store) DomainPolicy(ctx context.Context, host string) (string, error) {
	var p string
	err := s.read.QueryRowContext(ctx, `SELECT policy FROM domain_policies WHERE host = ?`, strings.ToLower(host)).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("policy of %s: %w", host, err)
	}
	return p, nil
}
