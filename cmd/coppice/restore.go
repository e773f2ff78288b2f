package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/coppice-dev/coppice/internal/config"
	"github.com/coppice-dev/coppice/storage"
)

// lockDatabase takes the lock serve holds on an SQLite database for as
// long as it runs (an flock on DB.lock, released by the kernel when the
// process ends, even by a crash). restore and migrate-data take it too, so
// they never replace or copy the file under a running server. On
// PostgreSQL it takes nothing.
func lockDatabase(db string) (unlock func(), err error) {
	if storage.IsPostgres(db) {
		// Several processes share a PostgreSQL database on purpose.
		return func() {}, nil
	}
	f, err := os.OpenFile(db+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock database: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("database %s is in use by a running coppice serve", db)
		}
		return nil, fmt.Errorf("lock database: %w", err)
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}

// runRestore: coppice restore FILE puts a backup in place of an SQLite
// database (a PostgreSQL database is refused: see the message). It
// refuses while serve runs on the database, and checks the backup's
// integrity and schema version first. The database it replaces is kept as
// DB.pre-restore (with its -wal file, if any).
func runRestore(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	cfg := config.Default()
	fs := newFlagSet("restore")
	dbFlag(fs, &cfg)
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{errors.New("restore: want exactly one FILE")}
	}
	backup := pos[0]
	if storage.IsPostgres(cfg.DB) {
		return fmt.Errorf("restore: %s is a PostgreSQL database; restore replaces an SQLite file only. "+
			"Load a pg_dump with pg_restore, or copy a backup FILE into a new, empty database with coppice migrate-data --from FILE --to postgres://…",
			storage.Redacted(cfg.DB))
	}
	unlock, err := lockDatabase(cfg.DB)
	if err != nil {
		return err
	}
	defer unlock()
	v, err := storage.CheckBackup(ctx, backup)
	if err != nil {
		return err
	}
	if err := replaceDatabase(cfg.DB, backup); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s from %s (schema version %d; serve migrates it at start)\n", cfg.DB, backup, v)
	return nil
}

// replaceDatabase copies backup next to db, syncs it, moves db and its WAL
// aside and renames the copy into place, so db is at every moment either
// the old database or the whole backup.
func replaceDatabase(db, backup string) error {
	tmp, err := os.CreateTemp(filepath.Dir(db), filepath.Base(db)+".restore-*")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing left to remove
	src, err := os.Open(backup)
	if err != nil {
		tmp.Close()
		return fmt.Errorf("restore: %w", err)
	}
	_, err = io.Copy(tmp, src)
	src.Close()
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore: copy %s: %w", backup, err)
	}
	if _, err := os.Stat(db); err == nil {
		if err := os.Rename(db, db+".pre-restore"); err != nil {
			return fmt.Errorf("restore: keep the old database: %w", err)
		}
	}
	// The old WAL belongs to the old database; with the new file it would
	// be read as part of it.
	if err := os.Rename(db+"-wal", db+".pre-restore-wal"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("restore: keep the old WAL: %w", err)
	}
	if err := os.Remove(db + "-shm"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(tmp.Name(), db); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if dir, err := os.Open(filepath.Dir(db)); err == nil {
		_ = dir.Sync() // make the rename durable where the filesystem allows
		dir.Close()
	}
	return nil
}
