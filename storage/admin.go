package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Admin is a console account.
type Admin struct {
	ID           int64
	Username     string
	PasswordHash string
	CreatedAt    time.Time
}

const createAdminQuery = `
	INSERT INTO admins (username, password_hash, created_at) VALUES (?, ?, ?)
	RETURNING id, username, password_hash, created_at`

func scanAdmin(row scanner) (Admin, error) {
	var a Admin
	var created int64
	err := row.Scan(&a.ID, &a.Username, &a.PasswordHash, &created)
	a.CreatedAt = fromDB(created)
	return a, err
}

// CreateAdmin inserts a console account; a taken username gives ErrConflict.
func (s *Store) CreateAdmin(ctx context.Context, a Admin) (Admin, error) {
	out, err := scanAdmin(s.write.QueryRowContext(ctx, createAdminQuery, a.Username, a.PasswordHash, toDB(a.CreatedAt)))
	if err != nil {
		return Admin{}, fmt.Errorf("create admin %s: %w", a.Username, mapError(err))
	}
	return out, nil
}

const adminByUsernameQuery = `SELECT id, username, password_hash, created_at FROM admins WHERE username = ?`

// AdminByUsername returns the console account with that username, or ErrNotFound.
func (s *Store) AdminByUsername(ctx context.Context, username string) (Admin, error) {
	a, err := scanAdmin(s.read.QueryRowContext(ctx, adminByUsernameQuery, username))
	if errors.Is(err, sql.ErrNoRows) {
		return Admin{}, ErrNotFound
	}
	if err != nil {
		return Admin{}, fmt.Errorf("admin %s: %w", username, err)
	}
	return a, nil
}
