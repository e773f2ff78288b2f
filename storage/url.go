package storage

import "github.com/jackc/pgx/v5/pgconn"

// Redacted returns db, a --db value, as logs and messages may show it: a
// PostgreSQL URL without its password, an SQLite path as it is.
func Redacted(db string) string {
	if !IsPostgres(db) {
		return db
	}
	if _, err := pgconn.ParseConfig(db); err != nil {
		// It may hold a password where a parser cannot find it.
		return "postgres://(a URL that does not parse)"
	}
	return redactURL(db)
}
