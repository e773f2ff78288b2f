package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/coppice-dev/coppice/internal/config"
	"github.com/coppice-dev/coppice/storage"
)

func runMigrate(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	cfg := config.Default()
	fs := newFlagSet("migrate")
	dbFlag(fs, &cfg)
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("migrate takes no arguments, got %q", pos)}
	}
	// Open applies pending migrations; report what is now in place.
	store, err := storage.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer store.Close()
	v, err := store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database %s is at schema version %d\n", storage.Redacted(cfg.DB), v)
	return nil
}

// runBackup: coppice backup FILE writes a consistent copy of the database
// into FILE, a new SQLite file, also while serve runs: SQLite's VACUUM
// INTO, or for a PostgreSQL database storage.CopyDatabase from one
// snapshot of it (see backupPostgres).
func runBackup(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	cfg := config.Default()
	fs := newFlagSet("backup")
	dbFlag(fs, &cfg)
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{fmt.Errorf("backup: want exactly one FILE")}
	}
	if storage.IsPostgres(cfg.DB) {
		return backupPostgres(ctx, cfg.DB, pos[0], stdout)
	}
	store, err := storage.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Backup(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", storage.Redacted(cfg.DB), pos[0])
	return nil
}

// backupPostgres copies the PostgreSQL database db into path, a new SQLite
// file: a whole Coppice database, consistent as of one moment, that
// serve runs on as it is and migrate-data copies into an empty PostgreSQL
// database. pg_dump is the other way, and the faster one for large
// databases.
func backupPostgres(ctx context.Context, db, path string, stdout io.Writer) (err error) {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("back up to %s: the file exists", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("back up to %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			// Half a backup must not pass for one.
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				_ = os.Remove(p)
			}
		}
	}()
	src, err := storage.Open(ctx, db)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := storage.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("back up to %s: %w", path, err)
	}
	counts, err := storage.CopyDatabase(ctx, src, dst)
	if cerr := dst.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("back up to %s: %w", path, err)
	}
	var rows int64
	for _, n := range counts {
		rows += n
	}
	fmt.Fprintf(stdout, "backed up %s to %s (an SQLite copy of %d rows)\n", storage.Redacted(db), path, rows)
	return nil
}
