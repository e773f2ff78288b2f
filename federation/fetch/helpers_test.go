package fetch

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// peer is a remote instance played by a loopback httptest server that
// counts the TCP connections it accepts and the requests it handles.
type peer struct {
	*httptest.Server
	conns atomic.Int64
	hits  atomic.Int64
}

func newPeer(t *testing.T, h http.HandlerFunc) *peer {
	t.Helper()
	p := &peer{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		h(w, r)
	}))
	// ConnState(StateNew) runs in the accept loop, in accept order.
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			p.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	p.Server = srv
	return p
}

// assertNoConnection checks that p never accepted a connection. It first
// makes one allowed request, so that any earlier connection would have been
// accepted, and counted, before it.
func (p *peer) assertNoConnection(t *testing.T) {
	t.Helper()
	c := NewClient(Options{AllowPrivate: true, Timeout: 5 * time.Second})
	defer c.CloseIdleConnections()
	resp, err := c.Get(p.URL + "/probe")
	if err != nil {
		t.Fatalf("probe %s: %v", p.URL, err)
	}
	resp.Body.Close()
	if got := p.conns.Load(); got != 1 {
		t.Errorf("peer accepted %d connections besides the probe, want 0", got-1)
	}
}

// serveDoc answers with an ActivityStreams document whose id is id.
func serveDoc(w http.ResponseWriter, id string) {
	w.Header().Set("Content-Type", "application/activity+json")
	fmt.Fprintf(w, `{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Note"}`, id)
}

// testFetcher returns a Fetcher whose client allows loopback addresses
// when opt.AllowPrivate is set.
func testFetcher(t *testing.T, sign Signer, opt FetcherOptions) *Fetcher {
	t.Helper()
	c := NewClient(Options{AllowPrivate: opt.AllowPrivate, Timeout: 5 * time.Second, UserAgent: "Coppice/test (+https://coppice.test/)"})
	t.Cleanup(c.CloseIdleConnections)
	return NewFetcher(c, sign, opt)
}

// fetchError asserts that err is an *Error of kind want and returns it.
func fetchError(t *testing.T, err error, want Kind) *Error {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("Fetch error = %v (%T), want *Error of kind %v", err, err, want)
	}
	if fe.Kind != want {
		t.Fatalf("Fetch error kind = %v (%v), want %v", fe.Kind, err, want)
	}
	return fe
}
