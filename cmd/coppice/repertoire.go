package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/config"
	"github.com/coppice-dev/coppice/internal/media"
	"github.com/coppice-dev/coppice/storage"
)

// runResource: coppice resource add|list|publish|archive.
func runResource(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("resource: want add, list, publish or archive")}
	}
	cfg := config.Default()
	fs := newFlagSet("resource " + args[0])
	dbFlag(fs, &cfg)
	baseFlag(fs, &cfg)
	dataFlag(fs, &cfg)
	switch args[0] {
	case "add":
		var n community.NewResource
		var file string
		fs.StringVar(&n.Kind, "kind", "link", "link, document, story, tool or method")
		fs.StringVar(&n.Title, "title", "", "title")
		fs.StringVar(&n.Description, "description", "", "what it is and why it helps")
		fs.StringVar(&n.Tags, "tags", "", "tags, separated by commas or spaces")
		fs.StringVar(&n.URL, "url", "", "the link")
		fs.StringVar(&file, "file", "", "a file to upload instead of a link")
		fs.StringVar(&n.By, "by", "admin", "who publishes it")
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError{errors.New("resource add: want exactly one COMMUNITY")}
		}
		return withService(ctx, cfg, func(svc *community.Service, cfg config.Config) error {
			if file != "" {
				f, err := saveFile(ctx, cfg, file)
				if err != nil {
					return err
				}
				n.File = storage.Resource{FileHash: f.Hash, FileExt: f.Ext, FileName: f.Name, FileType: f.ContentType, FileSize: f.Size}
			}
			r, err := svc.AddResource(ctx, pos[0], n)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "published %s\n", r.IRI)
			return nil
		})
	case "list":
		state := fs.String("state", storage.ResourcePublished, "proposed, published or archived")
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError{errors.New("resource list: want exactly one COMMUNITY")}
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			c, err := svc.Community(ctx, pos[0])
			if err != nil {
				return err
			}
			_, rs, err := svc.Resources(ctx, c, *state, 0, 1000)
			if err != nil {
				return err
			}
			for _, r := range rs {
				row(stdout, r.IRI, r.Kind, r.Title, r.ProposedBy)
			}
			return nil
		})
	case "publish", "archive":
		by := fs.String("by", "admin", "who does it")
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError{fmt.Errorf("resource %s: want exactly one URL", args[0])}
		}
		state := storage.ResourcePublished
		if args[0] == "archive" {
			state = storage.ResourceArchived
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			r, err := svc.SetResourceState(ctx, pos[0], state, *by)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s is %s\n", r.IRI, r.State)
			return nil
		})
	}
	return usageError{fmt.Errorf("resource: unknown subcommand %q", args[0])}
}

func saveFile(ctx context.Context, cfg config.Config, path string) (media.File, error) {
	store, err := media.NewStore(filepath.Join(cfg.Data, "media"), cfg.MaxUpload)
	if err != nil {
		return media.File{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return media.File{}, err
	}
	defer f.Close()
	return store.Save(ctx, f, filepath.Base(path))
}

// runMeeting: coppice meeting create|cancel.
func runMeeting(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("meeting: want create or cancel")}
	}
	cfg := config.Default()
	fs := newFlagSet("meeting " + args[0])
	dbFlag(fs, &cfg)
	baseFlag(fs, &cfg)
	switch args[0] {
	case "create", "update":
		var n community.NewMeeting
		var start, end string
		fs.StringVar(&n.Title, "title", "", "title")
		fs.StringVar(&n.Description, "description", "", "what the meeting is about")
		fs.StringVar(&start, "start", "", "start: 2026-12-01T15:00 in --timezone, or RFC 3339 with an offset")
		fs.StringVar(&end, "end", "", "end, like --start")
		fs.StringVar(&n.TimeZone, "timezone", "UTC", "IANA time zone, e.g. Europe/Berlin")
		fs.StringVar(&n.OnlineURL, "online", "", "link of an online meeting")
		fs.StringVar(&n.Place, "place", "", "address of the place")
		fs.StringVar(&n.RRule, "repeat", "", "RRULE, e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=10")
		fs.IntVar(&n.Capacity, "capacity", 0, "places (0: no limit)")
		fs.StringVar(&n.By, "by", "admin", "who schedules it")
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError{fmt.Errorf("meeting %s: want exactly one %s", args[0], map[string]string{"create": "COMMUNITY", "update": "URL"}[args[0]])}
		}
		loc, err := time.LoadLocation(n.TimeZone)
		if err != nil {
			return usageError{fmt.Errorf("timezone %q: %w", n.TimeZone, err)}
		}
		if n.Start, err = parseTime(start, loc); err != nil {
			return usageError{fmt.Errorf("start: %w", err)}
		}
		if n.End, err = parseTime(end, loc); err != nil {
			return usageError{fmt.Errorf("end: %w", err)}
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			if args[0] == "update" {
				// Every detail is given again: the command replaces them.
				m, err := svc.UpdateMeeting(ctx, pos[0], n)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "updated %s\n", m.IRI)
				return nil
			}
			m, err := svc.CreateMeeting(ctx, pos[0], n)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "scheduled %s\n", m.IRI)
			return nil
		})
	case "cancel":
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError{errors.New("meeting cancel: want exactly one URL")}
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			m, err := svc.CancelMeeting(ctx, pos[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "cancelled %s\n", m.IRI)
			return nil
		})
	}
	return usageError{fmt.Errorf("meeting: unknown subcommand %q", args[0])}
}

// parseTime reads a local date-time in loc (2026-12-01T15:00, seconds
// optional) or RFC 3339 with an offset.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("required")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want 2026-12-01T15:00 or RFC 3339", s)
}
