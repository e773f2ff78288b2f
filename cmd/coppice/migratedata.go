package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// runMigrateData: coppice migrate-data --from FILE.db --to postgres://…
// copies an SQLite instance into an empty PostgreSQL database, keys and
// all, in one transaction on the target, then counts the rows of every
// table on both sides and prints them. It holds the SQLite file's serve
// lock throughout: what a running server wrote after the copy began would
// be lost.
func runMigrateData(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs := newFlagSet("migrate-data")
	from := fs.String("from", "", "the SQLite database file to copy (COPPICE_FROM)")
	to := fs.String("to", "", "URL of the empty PostgreSQL database to copy into, postgres://USER:PASSWORD@HOST/NAME (COPPICE_TO)")
	pos, err := parse(fs, args, env)
	if errors.Is(err, flag.ErrHelp) {
		return printDefaults(fs, stdout)
	}
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageError{fmt.Errorf("migrate-data takes no arguments, got %q", pos)}
	case *from == "" || *to == "":
		return usageError{errors.New("migrate-data: want --from FILE.db and --to postgres://…")}
	case storage.IsPostgres(*from):
		return usageError{errors.New("migrate-data: --from is the SQLite file to copy, not a PostgreSQL URL")}
	case !storage.IsPostgres(*to):
		return usageError{errors.New("migrate-data: --to must be a postgres:// URL (coppice backup writes a database into an SQLite file)")}
	}
	// Opening a path that does not exist would create an empty database.
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("migrate-data: %w", err)
	}
	unlock, err := lockDatabase(*from)
	if err != nil {
		return fmt.Errorf("migrate-data: %w: stop it first, or what it writes during the copy is lost", err)
	}
	defer unlock()
	src, err := storage.Open(ctx, *from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := storage.Open(ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close()
	target := storage.Redacted(*to)
	fmt.Fprintf(stdout, "copying %s into %s\n", *from, target)
	start := time.Now()
	_, err = storage.CopyDatabase(ctx, src, dst, storage.CopyProgress(func(table string, rows int64, took time.Duration) {
		fmt.Fprintf(stdout, "  %-20s %10d rows  %s\n", table, rows, took.Round(time.Millisecond))
	}))
	if errors.Is(err, storage.ErrNotEmpty) {
		return fmt.Errorf("migrate-data: %w: %s must be a new, empty database (created as in the README), not one a server has run on", err, target)
	}
	if err != nil {
		return fmt.Errorf("migrate-data: %w", err)
	}
	fmt.Fprintf(stdout, "copied in %s; counting the rows of both\n", time.Since(start).Round(time.Second))
	if err := compareRows(ctx, src, dst, *from, target, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "done: serve with --db %s, and keep %s as a backup; uploaded files stay under --data, which every serve needs\n", target, *from)
	return nil
}

// compareRows counts the rows of every table of src and dst, prints them
// side by side and fails when any differs.
func compareRows(ctx context.Context, src, dst *storage.Store, srcName, dstName string, stdout io.Writer) error {
	want, err := src.CountRows(ctx)
	if err != nil {
		return fmt.Errorf("migrate-data: verify: %w", err)
	}
	got, err := dst.CountRows(ctx)
	if err != nil {
		return fmt.Errorf("migrate-data: verify: %w", err)
	}
	tables := make([]string, 0, len(want))
	for t := range want {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "table\t%s\t%s\n", srcName, dstName)
	var bad []string
	var total int64
	for _, t := range tables {
		mark := ""
		if got[t] != want[t] {
			mark = "  differs"
			bad = append(bad, t)
		}
		total += want[t]
		fmt.Fprintf(tw, "%s\t%d\t%d%s\n", t, want[t], got[t], mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("migrate-data: verify: row counts differ in %v", bad)
	}
	fmt.Fprintf(stdout, "verified: all %d tables have the same number of rows in both, %d in all\n", len(tables), total)
	return nil
}
