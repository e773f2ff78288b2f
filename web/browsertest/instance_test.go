package browsertest

import (
	"context"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/server"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// instance is a whole Coppice instance on a loopback httptest server whose
// URL is its base URL, with its background work running. It is the
// newInstance of internal/server's tests, which a test of another package
// cannot import.
type instance struct {
	URL string
	svc *community.Service
}

func (in *instance) actor(name string) string { return in.URL + "/c/" + name }
func (in *instance) inbox(name string) string { return in.URL + "/c/" + name + "/inbox" }

// newInstance starts an instance, wired by server.NewInstance as serve
// wires it, that federates with loopback peers (--insecure-federation), as
// the fake remote instance is one.
func newInstance(t *testing.T) *instance {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base, err := url.Parse("http://" + srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inst, err := server.NewInstance(ctx, server.Options{Store: storagetest.Open(t), BaseURL: base, MediaDir: t.TempDir(),
		Version: "test", InsecureFederation: true, ClientTimeout: 10 * time.Second})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	srv.Config.Handler = inst
	srv.Start()
	done := make(chan error, 1)
	go func() { done <- inst.Run(ctx) }()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("instance: %v", err)
		}
	})
	return &instance{URL: srv.URL, svc: inst.Community}
}
