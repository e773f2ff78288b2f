package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Instance holds the key pair of the instance's Application actor.
type Instance struct {
	PrivateKeyPEM string
	PublicKeyPEM  string
	CreatedAt     time.Time
}

const instanceQuery = `SELECT private_key_pem, public_key_pem, created_at FROM instance WHERE id = 1`

// Instance returns the instance row, or ErrNotFound before EnsureInstance ran.
func (s *Store) Instance(ctx context.Context) (Instance, error) {
	var in Instance
	var created int64
	err := s.read.QueryRowContext(ctx, instanceQuery).Scan(&in.PrivateKeyPEM, &in.PublicKeyPEM, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Instance{}, ErrNotFound
	}
	if err != nil {
		return Instance{}, fmt.Errorf("instance: %w", err)
	}
	in.CreatedAt = fromDB(created)
	return in, nil
}

const ensureInstanceQuery = `
	INSERT INTO instance (id, private_key_pem, public_key_pem, created_at) VALUES (1, ?, ?, ?)
	ON CONFLICT (id) DO NOTHING`

// EnsureInstance stores in as the instance row unless one exists already,
// then returns the stored row: the first key pair ever written wins.
func (s *Store) EnsureInstance(ctx context.Context, in Instance) (Instance, error) {
	if _, err := s.write.ExecContext(ctx, ensureInstanceQuery, in.PrivateKeyPEM, in.PublicKeyPEM, toDB(in.CreatedAt)); err != nil {
		return Instance{}, fmt.Errorf("ensure instance: %w", mapError(err))
	}
	var out Instance
	var created int64
	if err := s.write.QueryRowContext(ctx, instanceQuery).Scan(&out.PrivateKeyPEM, &out.PublicKeyPEM, &created); err != nil {
		return Instance{}, fmt.Errorf("ensure instance: %w", err)
	}
	out.CreatedAt = fromDB(created)
	return out, nil
}
