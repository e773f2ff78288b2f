package browsertest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/federation/delivery"
	"github.com/coppice-dev/coppice/federation/fetch"
	"github.com/coppice-dev/coppice/federation/mastodon"
	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/keypair"
	"github.com/coppice-dev/coppice/internal/media"
	"github.com/coppice-dev/coppice/internal/server"
	"github.com/coppice-dev/coppice/storage/storagetest"
	"github.com/coppice-dev/coppice/web"
)

// instance is a whole Coppice instance on a loopback httptest server whose
// URL is its base URL, with its delivery worker running. It is the
// newInstance of internal/server's tests, which a test of another package
// cannot import.
type instance struct {
	URL string
	svc *community.Service
}

func (in *instance) actor(name string) string { return in.URL + "/c/" + name }
func (in *instance) inbox(name string) string { return in.URL + "/c/" + name + "/inbox" }

// newInstance starts an instance that federates with loopback peers
// (--insecure-federation), as the fake remote instance is one.
func newInstance(t *testing.T) *instance {
	t.Helper()
	st := storagetest.Open(t)
	log := slog.New(slog.DiscardHandler)
	srv := httptest.NewUnstartedServer(nil)
	base, err := url.Parse("http://" + srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	iris := federation.NewIRIs(base)
	client := fetch.NewClient(fetch.Options{AllowPrivate: true, Timeout: 10 * time.Second})
	worker := delivery.New(delivery.Options{Store: st, Client: client, Log: log})
	svc := community.New(st, time.Now, log, community.Options{Render: federation.NewRenderer(iris), Queued: worker.Wake})
	in, err := svc.Instance(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	key, err := keypair.ParsePrivate(in.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	fetcher := fetch.NewFetcher(client, func(r *http.Request) error {
		return signature.Sign(r, nil, iris.InstanceKey().String(), key, time.Now())
	}, fetch.FetcherOptions{AllowPrivate: true})
	keys := federation.NewKeys(st, fetcher, time.Now, log)
	fed := federation.New(svc, federation.Options{IRIs: iris, Keys: keys, Log: log, Version: "test"})
	files, err := media.NewStore(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	signin := community.NewSignIn(svc, community.SignInOptions{
		Resolver: federation.NewResolver(client, keys, true),
		Accounts: mastodon.New(client, "Coppice test", base.String()),
	})
	site := web.New(svc, base, log, files).WithSignIn(signin)
	srv.Config.Handler = server.Middleware(server.Routes(fed, site, server.Health{}), log, nil)
	srv.Start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- worker.Run(ctx) }()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("delivery worker: %v", err)
		}
	})
	return &instance{URL: srv.URL, svc: svc}
}
