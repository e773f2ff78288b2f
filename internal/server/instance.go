package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/federation/delivery"
	"github.com/coppice-dev/coppice/federation/fetch"
	"github.com/coppice-dev/coppice/federation/mastodon"
	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/keypair"
	"github.com/coppice-dev/coppice/internal/media"
	"github.com/coppice-dev/coppice/internal/metrics"
	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/web"
)

// Options describe an instance. Store, BaseURL and MediaDir are required;
// every other field's zero value is the production default, so `serve`
// sets only what its flags say and a test only what it tests.
type Options struct {
	// Store is the instance's database; the caller opens and closes it.
	Store *storage.Store
	// BaseURL is the public URL every id and link is built from.
	BaseURL *url.URL
	// MediaDir is the directory of uploaded files (created if needed).
	MediaDir string
	// Version is the software version NodeInfo and the User-Agent name.
	Version string
	// Log receives every log line; nil discards them. Give it a
	// LogHandler so lines logged during a request carry its request_id.
	Log *slog.Logger
	// Metrics records requests, inbox activities, deliveries, the key
	// cache and the queue; nil records nothing. The caller made it before
	// opening Store, so that Store can report its write transactions.
	Metrics *metrics.Metrics
	// Now is the clock of the community rules and of the console's
	// sessions and login limit; default time.Now.
	Now func() time.Time
	// FederationNow is the clock of the inbox (the signatures' date
	// window, the rate limits) and of the remote-key cache; default
	// time.Now.
	FederationNow func() time.Time

	// InsecureFederation is --insecure-federation: outgoing requests may
	// reach http:// URLs and loopback or private addresses.
	InsecureFederation bool
	// AuthorizedFetch is --authorized-fetch: GETs of our objects,
	// collections and actors need a valid signature.
	AuthorizedFetch bool
	// TrustedProxies is --trusted-proxy: the reverse proxies whose
	// X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// Rate bounds the activities one actor and one host may send
	// (--inbox-actor-burst, --inbox-host-burst); zero fields take
	// federation.DefaultRate's.
	Rate federation.Rate
	// InboxConcurrency and InboxPerClient bound the inbox requests under
	// way, in all and from one client address; 0 takes federation's
	// defaults.
	InboxConcurrency, InboxPerClient int
	// MaxUpload is the largest uploaded file in bytes (--max-upload);
	// 0 means media.DefaultMaxBytes.
	MaxUpload int64
	// SessionTTL is how long a console session lasts; 0 means 12 hours.
	SessionTTL time.Duration
	// ClientTimeout bounds each outgoing fetch; 0 means fetch's default,
	// 30 s.
	ClientTimeout time.Duration
	// DeliveryTimeout bounds each delivery attempt; 0 means delivery's
	// default, 30 s.
	DeliveryTimeout time.Duration
}

// Instance is a whole Coppice instance: its HTTP handler, with every
// route behind the middleware, and the background work that Run does.
type Instance struct {
	// Community is the community layer every door calls.
	Community *community.Service
	// Worker delivers the queued activities while Run runs.
	Worker *delivery.Worker

	handler http.Handler
}

// NewInstance wires an instance the way `coppice serve` runs it: storage,
// the community layer with the federation renderer, the delivery worker,
// the guarded outgoing client and the instance actor's signed fetches, the
// remote-key cache, the federation handler, the site with its console and
// sign-in, the routes, the client address and the middleware.
func NewInstance(ctx context.Context, opt Options) (*Instance, error) {
	if opt.Store == nil || opt.BaseURL == nil || opt.MediaDir == "" {
		return nil, errors.New("new instance: Store, BaseURL and MediaDir are required")
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now, fedNow := opt.Now, opt.FederationNow
	if now == nil {
		now = time.Now
	}
	if fedNow == nil {
		fedNow = time.Now
	}
	store, base := opt.Store, opt.BaseURL
	iris := federation.NewIRIs(base)
	userAgent := "Coppice/" + opt.Version + " (+" + base.String() + "/)"

	// The outgoing HTTP clients, for fetches and for deliveries, with the
	// private-address guard unless --insecure-federation, and the
	// federation policy on every request (FET-13).
	clientOpt := fetch.Options{AllowPrivate: opt.InsecureFederation, Timeout: opt.ClientTimeout,
		UserAgent: userAgent, Policy: store.HostAllowed}
	client := fetch.NewClient(clientOpt)
	// The inbox's requests go before the deliveries' signatures.
	yield := delivery.NewYield()
	worker := delivery.New(delivery.Options{Store: store, Client: fetch.NewPoster(clientOpt), Log: log, UserAgent: userAgent,
		Timeout: opt.DeliveryTimeout, Yield: yield})
	svc := community.New(store, now, log, community.Options{Render: federation.NewRenderer(iris), Queued: worker.Wake})
	in, err := svc.Instance(ctx)
	if err != nil {
		return nil, fmt.Errorf("new instance: %w", err)
	}
	instanceKey, err := keypair.ParsePrivate(in.PrivateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("new instance: %w", err)
	}
	// Fetches are signed by the instance actor (Mastodon's authorized
	// fetch), with the real time: the peer checks the date.
	signGet := func(r *http.Request) error {
		return signature.Sign(r, nil, iris.InstanceKey().String(), instanceKey, time.Now())
	}
	fetcher := fetch.NewFetcher(client, signGet, fetch.FetcherOptions{AllowPrivate: opt.InsecureFederation})
	keys := federation.NewKeys(store, fetcher, fedNow, log)
	fed := federation.New(svc, federation.Options{IRIs: iris, Keys: keys, Log: log, Version: opt.Version, Now: fedNow,
		Metrics: opt.Metrics, AuthorizedFetch: opt.AuthorizedFetch, Rate: opt.Rate,
		InboxConcurrency: opt.InboxConcurrency, InboxPerClient: opt.InboxPerClient, Inbound: yield})
	watch(opt.Metrics, store, worker, keys)

	files, err := media.NewStore(opt.MediaDir, opt.MaxUpload)
	if err != nil {
		return nil, err
	}
	// Members sign in with their fediverse account: WebFinger and the
	// actor through the same guarded client and signed fetches, OAuth with
	// servers that speak the Mastodon client API.
	signin := community.NewSignIn(svc, community.SignInOptions{
		Resolver: federation.NewResolver(client, keys, opt.InsecureFederation),
		Accounts: mastodon.New(client, "Coppice at "+base.Host, base.String()),
	})
	site := web.New(svc, base, log, files).
		WithConsole(web.ConsoleOptions{Now: now, SessionTTL: opt.SessionTTL, MaxUpload: opt.MaxUpload}).
		WithSignIn(signin)
	h := Middleware(ClientAddress(Routes(fed, site, health(store, worker)), opt.TrustedProxies), log, opt.Metrics)
	return &Instance{Community: svc, Worker: worker, handler: h}, nil
}

// ServeHTTP answers a request to the instance.
func (in *Instance) ServeHTTP(w http.ResponseWriter, r *http.Request) { in.handler.ServeHTTP(w, r) }

// Run does the instance's background work until ctx ends: the delivery
// worker, and the community's timed work (batched meeting counts and
// decision tallies). It returns when both have stopped.
func (in *Instance) Run(ctx context.Context) error {
	werr := make(chan error, 1)
	go func() { werr <- in.Worker.Run(ctx) }()
	err := in.Community.Run(ctx)
	return errors.Join(<-werr, err)
}

// watch exposes what the worker, the key cache and the queue count; m may
// be nil.
func watch(m *metrics.Metrics, store *storage.Store, worker *delivery.Worker, keys *federation.Keys) {
	if m == nil {
		return
	}
	m.WatchDeliveries(func() metrics.DeliveryStats {
		s := worker.Stats()
		return metrics.DeliveryStats{Delivered: s.Delivered, Dropped: s.Dropped, Retried: s.Retried,
			Failed: s.Failed, Unauthorized: s.Unauthorized, InFlight: s.InFlight}
	})
	m.WatchKeys(func() metrics.KeyStats {
		s := keys.Stats()
		return metrics.KeyStats{CacheHits: s.CacheHits, Fetches: s.Fetches, FetchErrors: s.FetchErrors, StaleUsed: s.StaleUsed}
	})
	m.WatchQueue(func(ctx context.Context) (metrics.QueueState, error) {
		q, err := store.QueueState(ctx, time.Now())
		return metrics.QueueState{Queued: q.Queued, Failed: q.Failed, FanOuts: q.FanOuts, OldestDue: q.OldestDue,
			FailingHosts: q.FailingHosts, UnreachableHosts: q.UnreachableHosts}, err
	}, time.Now)
}

// health wires the health endpoints to the store and the worker.
func health(store *storage.Store, worker *delivery.Worker) Health {
	return Health{
		Database: store.Ping,
		Delivery: func(ctx context.Context) (DeliveryHealth, error) {
			q, err := store.QueueState(ctx, time.Now())
			if err != nil {
				return DeliveryHealth{}, err
			}
			h := worker.Health()
			return DeliveryHealth{Running: h.Running, LastTurn: h.LastTurn, Queued: q.Queued, OldestDue: q.OldestDue}, nil
		},
	}
}
