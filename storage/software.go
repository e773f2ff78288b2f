package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Family is the kind of server a host runs, as far as what it shows of a
// community's announces goes.
type Family string

// Families of servers.
const (
	FamilyUnknown   Family = ""          // gets every shape
	FamilyMicroblog Family = "microblog" // shows Announce{object} as a boost; ignores Announce{activity}
	FamilyGroup     Family = "group"     // reads Announce{activity} (FEP-1b12)
)

// SetHostSoftware records what a host runs (name "" and FamilyUnknown when
// its NodeInfo could not be read) and when that was learnt.
func (s *Store) SetHostSoftware(ctx context.Context, host, name string, family Family, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO host_software (host, name, family, checked_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (host) DO UPDATE SET name = excluded.name, family = excluded.family, checked_at = excluded.checked_at`,
		host, name, string(family), toDB(at))
	if err != nil {
		return fmt.Errorf("software of %s: %w", host, mapError(err))
	}
	return nil
}

// HostSoftware returns what a host runs and when that was learnt;
// ErrNotFound when it was never asked.
func (s *Store) HostSoftware(ctx context.Context, host string) (string, Family, time.Time, error) {
	var name, family string
	var checked int64
	err := s.read.QueryRowContext(ctx, `SELECT name, family, checked_at FROM host_software WHERE host = ?`, host).Scan(&name, &family, &checked)
	if errors.Is(err, sql.ErrNoRows) {
		return "", FamilyUnknown, time.Time{}, ErrNotFound
	}
	if err != nil {
		return "", FamilyUnknown, time.Time{}, fmt.Errorf("software of %s: %w", host, err)
	}
	return name, Family(family), fromDB(checked), nil
}
