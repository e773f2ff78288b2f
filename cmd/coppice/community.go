package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/federation"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/config"
	"github.com/coppice-dev/coppice/storage"
)

func runCommunity(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("community: want create or list")}
	}
	cfg := config.Default()
	fs := newFlagSet("community " + args[0])
	dbFlag(fs, &cfg)
	switch args[0] {
	case "follow":
		return runCommunityFollow(ctx, args[1:], env, stdout)
	case "create":
		var n community.NewCommunity
		fs.StringVar(&n.Title, "title", "", "title of the community")
		fs.StringVar(&n.Summary, "summary", "", "what the community's domain is")
		fs.StringVar(&n.Rules, "rules", "", "how members are expected to take part")
		fs.StringVar(&n.JoinMode, "join", community.JoinOpen, "open or approval")
		pos, err := parse(fs, args[1:], env)
		if errors.Is(err, flag.ErrHelp) {
			return printDefaults(fs, stdout)
		}
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError{errors.New("community create: want exactly one NAME")}
		}
		n.Name = pos[0]
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			c, err := svc.CreateCommunity(ctx, n)
			if errors.Is(err, community.ErrConflict) {
				return fmt.Errorf("community %s exists already", n.Name)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "created community %s (%s)\n", c.Name, c.Title)
			return nil
		})
	case "list":
		if _, err := parse(fs, args[1:], env); err != nil {
			return err
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			cs, err := svc.Communities(ctx)
			if err != nil {
				return err
			}
			for _, c := range cs {
				row(stdout, c.Name, c.JoinMode, c.Title)
			}
			return nil
		})
	case "set":
		var posting string
		var boost bool
		fs.StringVar(&posting, "posting", "", "who may post: members, anyone or moderators")
		fs.BoolVar(&boost, "boost-replies", true, "boost replies to microblog followers too (false: thread starters only)")
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError{errors.New("community set: want exactly one NAME")}
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			c, err := svc.Community(ctx, pos[0])
			if err != nil {
				return err
			}
			if posting == "" {
				posting = c.PostingPolicy
			}
			c, err = svc.UpdateSettings(ctx, pos[0], community.Settings{PostingPolicy: posting, BoostReplies: boost})
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: posting %s, boost replies %v\n", c.Name, c.PostingPolicy, c.BoostReplies)
			return nil
		})
	case "requests":
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError{errors.New("community requests: want exactly one NAME")}
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			fs, err := svc.PendingFollows(ctx, pos[0])
			if err != nil {
				return err
			}
			for _, f := range fs {
				row(stdout, f.ActorIRI, f.CreatedAt.Format(time.RFC3339))
			}
			return nil
		})
	case "approve", "reject":
		baseFlag(fs, &cfg)
		by := fs.String("by", "", "who you are, for the audit log (default: cli)")
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 2 {
			return usageError{fmt.Errorf("community %s: want NAME ACTOR", args[0])}
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			actorIRI, err := svc.ResolveActor(ctx, pos[1])
			if err != nil {
				return err
			}
			if args[0] == "approve" {
				err = svc.ApproveFollow(ctx, community.Operator(*by), pos[0], actorIRI)
			} else {
				err = svc.RejectFollow(ctx, community.Operator(*by), pos[0], actorIRI)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%sd %s in %s; the server delivers the answer\n", strings.TrimSuffix(args[0], "e"), actorIRI, pos[0])
			return nil
		})
	case "held":
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError{errors.New("community held: want exactly one NAME")}
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			c, err := svc.Community(ctx, pos[0])
			if err != nil {
				return err
			}
			held, err := svc.HeldPosts(ctx, c)
			if err != nil {
				return err
			}
			for _, h := range held {
				row(stdout, strconv.FormatInt(h.ID, 10), h.AuthorIRI, h.NoteIRI, h.ReceivedAt.Format(time.RFC3339))
			}
			return nil
		})
	case "review":
		baseFlag(fs, &cfg)
		by := fs.String("by", "", "who you are, for the audit log (default: cli)")
		pos, err := parse(fs, args[1:], env)
		if err != nil {
			return err
		}
		if len(pos) != 3 || (pos[2] != "approve" && pos[2] != "reject") {
			return usageError{errors.New("community review: want NAME ID approve|reject")}
		}
		id, err := strconv.ParseInt(pos[1], 10, 64)
		if err != nil {
			return usageError{fmt.Errorf("community review: %q is no post id (see community held)", pos[1])}
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			if err := svc.ReviewHeld(ctx, community.Operator(*by), pos[0], id, pos[2] == "approve"); err != nil {
				return err
			}
			if pos[2] == "approve" {
				fmt.Fprintf(stdout, "approved post %d in %s; the server announces it\n", id, pos[0])
			} else {
				fmt.Fprintf(stdout, "rejected post %d in %s\n", id, pos[0])
			}
			return nil
		})
	}
	return usageError{fmt.Errorf("community: unknown subcommand %q", args[0])}
}

// withService opens the database of cfg and runs fn with a community
// service over it.
func withService(ctx context.Context, cfg config.Config, fn func(*community.Service, config.Config) error) error {
	store, err := storage.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer store.Close()
	base, err := config.ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return usageError{err}
	}
	render := federation.NewRenderer(federation.NewIRIs(base))
	return fn(community.New(store, time.Now, slog.New(slog.DiscardHandler), community.Options{Render: render}), cfg)
}
