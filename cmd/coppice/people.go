package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/config"
	"github.com/coppice-dev/coppice/storage"
)

// runMember: coppice member list|role|ban|unban COMMUNITY [ACTOR [ROLE]].
func runMember(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("member: want list, role, ban or unban")}
	}
	cfg := config.Default()
	fs := newFlagSet("member " + args[0])
	dbFlag(fs, &cfg)
	baseFlag(fs, &cfg)
	by := fs.String("by", "admin", "who does it (for the moderation log)")
	reason := fs.String("reason", "", "why (ban)")
	pos, err := parse(fs, args[1:], env)
	if err != nil {
		return err
	}
	want := map[string]int{"list": 1, "role": 3, "ban": 2, "unban": 2}[args[0]]
	if want == 0 {
		return usageError{fmt.Errorf("member: unknown subcommand %q", args[0])}
	}
	if len(pos) != want {
		return usageError{fmt.Errorf("member %s: want %d arguments", args[0], want)}
	}
	return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
		if args[0] == "list" {
			c, err := svc.Community(ctx, pos[0])
			if err != nil {
				return err
			}
			_, ms, err := svc.Members(ctx, c, 0, 10_000)
			if err != nil {
				return err
			}
			for _, m := range ms {
				row(stdout, m.ActorIRI, m.Role)
			}
			return nil
		}
		actorIRI, err := svc.ResolveActor(ctx, pos[1])
		if err != nil {
			return err
		}
		switch args[0] {
		case "role":
			err = svc.SetRole(ctx, community.Operator(*by), pos[0], actorIRI, pos[2])
		case "ban":
			err = svc.Ban(ctx, community.Operator(*by), pos[0], actorIRI, *reason)
		case "unban":
			err = svc.Unban(ctx, community.Operator(*by), pos[0], actorIRI)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %s in %s\n", args[0], actorIRI, pos[0])
		return nil
	})
}

// runReport: coppice report list COMMUNITY | report resolve ID dismiss|remove|ban.
func runReport(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("report: want list or resolve")}
	}
	cfg := config.Default()
	fs := newFlagSet("report " + args[0])
	dbFlag(fs, &cfg)
	baseFlag(fs, &cfg)
	by := fs.String("by", "admin", "who resolves it")
	pos, err := parse(fs, args[1:], env)
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		if len(pos) != 1 {
			return usageError{errors.New("report list: want COMMUNITY")}
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			rs, err := svc.Reports(ctx, pos[0])
			if err != nil {
				return err
			}
			for _, r := range rs {
				row(stdout, r.ID, r.ReporterIRI, strings.Join(r.Objects, " "), r.Reason)
			}
			return nil
		})
	case "resolve":
		if len(pos) != 2 {
			return usageError{errors.New("report resolve: want ID dismiss|remove|ban")}
		}
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil {
			return usageError{fmt.Errorf("report id %q: %w", pos[0], err)}
		}
		return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
			r, err := svc.ResolveReport(ctx, community.Operator(*by), id, pos[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "report %d %s (%s)\n", r.ID, r.State, r.Resolution)
			return nil
		})
	}
	return usageError{fmt.Errorf("report: unknown subcommand %q", args[0])}
}

// runFederation: coppice federation allow|block|silence|reject-media|unset HOST | mode open|allowlist | list.
func runFederation(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("federation: want allow, block, silence, reject-media, unset, mode or list")}
	}
	cfg := config.Default()
	fs := newFlagSet("federation " + args[0])
	dbFlag(fs, &cfg)
	pos, err := parse(fs, args[1:], env)
	if err != nil {
		return err
	}
	return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
		switch args[0] {
		case "list":
			mode, ps, err := svc.FederationPolicy(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "mode\t%s\n", mode)
			for h, p := range ps {
				row(stdout, h, p)
			}
			return nil
		case "mode":
			if len(pos) != 1 {
				return usageError{errors.New("federation mode: want open or allowlist")}
			}
			if err := svc.SetFederationMode(ctx, pos[0]); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "federation mode %s\n", pos[0])
			return nil
		case "allow", "block", "silence", "reject-media", "unset":
			if len(pos) != 1 {
				return usageError{fmt.Errorf("federation %s: want HOST", args[0])}
			}
			policy := storage.Policy(strings.ReplaceAll(args[0], "-", "_"))
			if args[0] == "unset" {
				policy = storage.PolicyNone
			}
			if err := svc.SetDomainPolicy(ctx, pos[0], policy); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s %s\n", args[0], strings.ToLower(pos[0]))
			return nil
		}
		return usageError{fmt.Errorf("federation: unknown subcommand %q", args[0])}
	})
}
