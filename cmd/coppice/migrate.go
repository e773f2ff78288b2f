package main

import (
	"context"
	"fmt"
	"io"

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
	fmt.Fprintf(stdout, "database %s is at schema version %d\n", cfg.DB, v)
	return nil
}

// runBackup: coppice backup FILE writes a consistent copy of the database,
// also while serve runs.
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
	store, err := storage.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Backup(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", cfg.DB, pos[0])
	return nil
}
