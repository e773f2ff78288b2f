package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/federation/fetch"
	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/config"
	"github.com/coppice-dev/coppice/internal/keypair"
	"github.com/coppice-dev/coppice/storage"
)

// fetchActor fetches a remote actor by URL, signed by the instance actor,
// for commands that need one (community follow).
func fetchRemoteActor(ctx context.Context, svc *community.Service, cfg config.Config, rawURL string) (storage.Actor, error) {
	base, err := config.ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return storage.Actor{}, err
	}
	in, err := svc.Instance(ctx)
	if err != nil {
		return storage.Actor{}, err
	}
	key, err := keypair.ParsePrivate(in.PrivateKeyPEM)
	if err != nil {
		return storage.Actor{}, err
	}
	iris := federation.NewIRIs(base)
	client := fetch.NewClient(fetch.Options{AllowPrivate: cfg.InsecureFederation, Timeout: 30 * time.Second, UserAgent: "Coppice/" + version,
		Policy: svc.HostAllowed})
	f := fetch.NewFetcher(client, func(r *http.Request) error {
		return signature.Sign(r, nil, iris.InstanceKey().String(), key, time.Now())
	}, fetch.FetcherOptions{AllowPrivate: cfg.InsecureFederation})
	body, _, err := f.Fetch(ctx, rawURL)
	if err != nil {
		return storage.Actor{}, err
	}
	return federation.ParseActor(ctx, body)
}

// runCommunityFollow: coppice community follow NAME URL.
func runCommunityFollow(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	cfg := config.Default()
	fs := newFlagSet("community follow")
	dbFlag(fs, &cfg)
	baseFlag(fs, &cfg)
	fs.BoolVar(&cfg.InsecureFederation, "insecure-federation", false, "allow http:// and private addresses (COPPICE_INSECURE_FEDERATION=1)")
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError{errors.New("community follow: want NAME and the URL of the community to follow")}
	}
	return withService(ctx, cfg, func(svc *community.Service, cfg config.Config) error {
		target, err := fetchRemoteActor(ctx, svc, cfg, pos[1])
		if err != nil {
			return err
		}
		r, err := svc.FollowCommunity(ctx, pos[0], target)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s asked to follow %s; the server delivers the Follow\n", pos[0], r.RemoteIRI)
		return nil
	})
}

// runBroker: coppice broker share TARGET OBJECT_URL --by ACTOR [--from SOURCE].
func runBroker(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "share" {
		return usageError{errors.New("broker: want share TARGET OBJECT_URL --by ACTOR")}
	}
	cfg := config.Default()
	fs := newFlagSet("broker share")
	dbFlag(fs, &cfg)
	baseFlag(fs, &cfg)
	by := fs.String("by", "", "the broker or moderator sharing it (actor URL or @name@host, or a console name)")
	from := fs.String("from", "", "the community it comes from (found by itself for local objects)")
	pos, err := parse(fs, args[1:], env)
	if err != nil {
		return err
	}
	if len(pos) != 2 || *by == "" {
		return usageError{errors.New("broker share: want TARGET OBJECT_URL --by ACTOR")}
	}
	return withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
		broker := *by
		if iri, err := svc.ResolveActor(ctx, broker); err == nil {
			broker = iri
		}
		sh, err := svc.Share(ctx, pos[0], pos[1], *from, broker)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "shared %s into %s as %s\n", sh.ObjectIRI, pos[0], sh.ActivityIRI)
		return nil
	})
}
