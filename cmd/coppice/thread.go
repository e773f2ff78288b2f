package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/config"
)

// runThread: coppice thread pin|unpin|lock|unlock|remove URL, where URL is
// the thread's page on this instance or the IRI of one of its posts.
func runThread(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("thread: want pin, unpin, lock, unlock or remove")}
	}
	action := args[0]
	switch action {
	case community.ActionPin, community.ActionUnpin, community.ActionLock, community.ActionUnlock, community.ActionRemove:
	default:
		return usageError{fmt.Errorf("thread: unknown action %q", action)}
	}
	cfg := config.Default()
	fs := newFlagSet("thread " + action)
	dbFlag(fs, &cfg)
	baseFlag(fs, &cfg)
	pos, err := parse(fs, args[1:], env)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{fmt.Errorf("thread %s: want exactly one URL", action)}
	}
	return withService(ctx, cfg, func(svc *community.Service, cfg config.Config) error {
		postIRI, err := rootOf(ctx, svc, cfg, pos[0])
		if err != nil {
			return err
		}
		th, err := svc.ModerateThread(ctx, postIRI, action)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %q pinned=%v locked=%v removed=%v\n", action, th.Title, th.Pinned, th.Locked, th.Removed)
		return nil
	})
}

// rootOf turns a thread page URL of this instance into the IRI of the
// thread's first post; any other URL is taken as a post IRI.
func rootOf(ctx context.Context, svc *community.Service, cfg config.Config, arg string) (string, error) {
	base, err := config.ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(arg)
	if err != nil {
		return "", usageError{fmt.Errorf("URL %q: %w", arg, err)}
	}
	if strings.EqualFold(u.Host, base.Host) {
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if len(parts) == 4 && parts[0] == "c" && parts[2] == "threads" {
			id, err := strconv.ParseInt(parts[3], 10, 64)
			if err == nil {
				tv, err := svc.Thread(ctx, parts[1], id)
				if err != nil {
					return "", fmt.Errorf("thread %s: %w", arg, err)
				}
				return tv.Thread.RootIRI, nil
			}
		}
	}
	return arg, nil
}
