package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
)

// LatestSchemaVersion is the number of the newest migration this binary
// knows.
func LatestSchemaVersion() (int, error) {
	ms, err := migrations("sqlite")
	if err != nil {
		return 0, err
	}
	return ms[len(ms)-1].version, nil
}

// CheckBackup opens the SQLite file at path read-only, without migrating
// it, and checks that it is a whole Coppice database this binary can run:
// SQLite's integrity check passes and its schema version is between 1 and
// LatestSchemaVersion. It returns the schema version.
func CheckBackup(ctx context.Context, path string) (int, error) {
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("check backup: %w", err)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	db, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return 0, fmt.Errorf("check backup %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return 0, fmt.Errorf("check backup %s: not a readable SQLite database: %w", path, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return 0, fmt.Errorf("check backup %s: %w", path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("check backup %s: %w", path, err)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("check backup %s: not a readable SQLite database: %w", path, err)
	}
	if len(problems) > 0 {
		return 0, fmt.Errorf("check backup %s: integrity check failed: %v", path, problems)
	}
	var v int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("check backup %s: not a Coppice database (no schema_migrations): %w", path, err)
	}
	latest, err := LatestSchemaVersion()
	if err != nil {
		return 0, err
	}
	switch {
	case v < 1:
		return 0, errors.New("check backup " + path + ": no migration applied: not a Coppice database")
	case v > latest:
		return 0, fmt.Errorf("check backup %s: schema version %d is newer than this binary's %d: restore it with a newer coppice", path, v, latest)
	}
	return v, nil
}
