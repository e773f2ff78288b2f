package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/coppice-dev/coppice/internal/config"
)

// envName derives the environment variable of a flag: --base-url reads
// COPPICE_BASE_URL.
func envName(flagName string) string {
	return "COPPICE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse parses args into fs after applying the environment: a flag given on
// the command line wins over its variable. Flags and positional arguments
// may be mixed (coppice community create NAME --title T). It returns the
// positional arguments.
func parse(fs *flag.FlagSet, args []string, env func(string) string) ([]string, error) {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v := env(envName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", envName(f.Name), v, err))
			}
		}
	})
	if len(errs) > 0 {
		return nil, usageError{errors.Join(errs...)}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("coppice "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// dbFlag adds --db to fs.
func dbFlag(fs *flag.FlagSet, c *config.Config) {
	fs.StringVar(&c.DB, "db", c.DB, "the database: the path of an SQLite file, or a postgres://USER:PASSWORD@HOST/NAME URL (COPPICE_DB)")
}

// baseFlag adds --base-url to fs: commands that make activities build
// their ids from it.
func baseFlag(fs *flag.FlagSet, c *config.Config) {
	fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, "public URL ids are built from, as given to serve (COPPICE_BASE_URL)")
}

// dataFlag adds --data (uploaded files live under it) to fs.
func dataFlag(fs *flag.FlagSet, c *config.Config) {
	fs.StringVar(&c.Data, "data", c.Data, "directory for uploaded files (COPPICE_DATA)")
}
