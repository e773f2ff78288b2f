package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/config"
	"github.com/coppice-dev/coppice/storage"
)

// runWiki: coppice wiki edit|history|revert.
func runWiki(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("wiki: want edit, history or revert")}
	}
	cfg := config.Default()
	fs := newFlagSet("wiki " + args[0])
	dbFlag(fs, &cfg)
	baseFlag(fs, &cfg)
	by := fs.String("by", "", "who you are, for the page history (default: cli)")
	switch args[0] {
	case "edit":
		var e community.WikiEdit
		var file string
		fs.StringVar(&e.Title, "title", "", "the page's title")
		fs.StringVar(&file, "file", "", "a Markdown file with the page's text (- for standard input)")
		fs.StringVar(&e.Summary, "summary", "", "what changed")
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 2 || file == "" {
			return usageError{errors.New("wiki edit: want COMMUNITY SLUG --title T --file F")}
		}
		body, err := readLimited(file, community.MaxWikiBody)
		if err != nil {
			return err
		}
		e.Slug, e.Body = pos[1], body
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			// The operator edits over whatever is current.
			cur, err := svc.WikiPage(ctx, pos[0], e.Slug, 0)
			if err == nil {
				e.Base = cur.Page.Revision
				if e.Title == "" {
					e.Title = cur.Page.Title
				}
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			p, err := svc.EditWiki(ctx, community.Operator(*by), pos[0], e)
			if err != nil {
				return cliProblem(err)
			}
			fmt.Fprintf(stdout, "saved %s revision %d\n", p.IRI, p.Revision)
			return nil
		})
	case "history":
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 2 {
			return usageError{errors.New("wiki history: want COMMUNITY SLUG")}
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			_, revs, err := svc.WikiHistory(ctx, pos[0], pos[1])
			if err != nil {
				return err
			}
			for _, r := range revs {
				row(stdout, r.Number, r.CreatedAt.Format(time.RFC3339), r.Author, r.Summary)
			}
			return nil
		})
	case "revert":
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 3 {
			return usageError{errors.New("wiki revert: want COMMUNITY SLUG REVISION")}
		}
		n, err := strconv.Atoi(pos[2])
		if err != nil || n < 1 {
			return usageError{fmt.Errorf("revision %q: want a number from the history", pos[2])}
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			p, err := svc.RevertWiki(ctx, community.Operator(*by), pos[0], pos[1], n)
			if err != nil {
				return cliProblem(err)
			}
			fmt.Fprintf(stdout, "reverted %s to revision %d as revision %d\n", p.IRI, n, p.Revision)
			return nil
		})
	}
	return usageError{fmt.Errorf("wiki: unknown subcommand %q", args[0])}
}

// runDecision: coppice decision open|close|list.
func runDecision(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("decision: want open, close or list")}
	}
	cfg := config.Default()
	fs := newFlagSet("decision " + args[0])
	dbFlag(fs, &cfg)
	baseFlag(fs, &cfg)
	by := fs.String("by", "", "who you are, for the audit log (default: cli)")
	switch args[0] {
	case "open":
		var n community.NewDecision
		var closes string
		var options multiFlag
		fs.StringVar(&n.Question, "question", "", "the question")
		fs.Var(&options, "option", "an option (give 2 to 20)")
		fs.StringVar(&closes, "closes", "", "when it closes: 2026-12-20T18:00 in --timezone, or RFC 3339 with an offset")
		fs.StringVar(&n.TimeZone, "timezone", "UTC", "IANA time zone, e.g. Europe/Rome")
		fs.BoolVar(&n.Multiple, "multiple", false, "voters may choose several options")
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError{errors.New("decision open: want COMMUNITY --question Q --option A --option B --closes T")}
		}
		loc, err := time.LoadLocation(n.TimeZone)
		if err != nil {
			return usageError{fmt.Errorf("timezone %q: %w", n.TimeZone, err)}
		}
		if n.Closes, err = parseTime(closes, loc); err != nil {
			return usageError{fmt.Errorf("closes: %w", err)}
		}
		n.Options = options
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			d, err := svc.OpenDecision(ctx, community.Operator(*by), pos[0], n)
			if err != nil {
				return cliProblem(err)
			}
			fmt.Fprintf(stdout, "opened %s\n", d.IRI)
			return nil
		})
	case "close":
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError{errors.New("decision close: want URL")}
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			d, err := svc.CloseDecision(ctx, community.Operator(*by), pos[0])
			if err != nil {
				return cliProblem(err)
			}
			v, err := svc.Decision(ctx, d.IRI)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "closed %s: %s\n", d.IRI, result(v))
			return nil
		})
	case "list":
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError{errors.New("decision list: want COMMUNITY")}
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			c, err := svc.Community(ctx, pos[0])
			if err != nil {
				return err
			}
			ds, err := svc.Decisions(ctx, c, 100)
			if err != nil {
				return err
			}
			for _, v := range ds {
				state := "open"
				if !v.Open(time.Now()) {
					state = "closed"
				}
				row(stdout, v.Decision.IRI, state, v.Decision.Question, result(v))
			}
			return nil
		})
	}
	return usageError{fmt.Errorf("decision: unknown subcommand %q", args[0])}
}

// result is a decision's votes per option and turnout, on one line.
func result(v community.DecisionView) string {
	var parts []string
	for i, o := range v.Decision.Options {
		parts = append(parts, fmt.Sprintf("%s %d", o, v.Tally.Votes[i]))
	}
	return strings.Join(parts, ", ") + fmt.Sprintf("; %d voted", v.Tally.Voters)
}

// cliProblem turns a community's refusal into a message for the operator.
func cliProblem(err error) error {
	var inv *community.InvalidError
	if errors.As(err, &inv) {
		var msgs []string
		for k, v := range inv.Fields {
			msgs = append(msgs, k+": "+v)
		}
		return usageError{errors.New(strings.Join(msgs, "; "))}
	}
	var conflict *community.WikiConflict
	if errors.As(err, &conflict) {
		return fmt.Errorf("%w; run the command again to save over it", conflict)
	}
	return err
}

// multiFlag is a flag that may be given several times.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

var _ flag.Value = (*multiFlag)(nil)

// readLimited reads a file (or standard input for "-") of at most max
// bytes.
func readLimited(path string, max int) (string, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return "", err
	}
	if len(b) > max {
		return "", usageError{fmt.Errorf("%s: larger than %d KiB", path, max>>10)}
	}
	return string(b), nil
}
