package fetch

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// post sends a POST of body to u with p and returns the status and the
// answer's body, read to its end.
func post(t *testing.T, ctx context.Context, p *Poster, u, body string) (int, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/activity+json")
	resp, err := p.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func testPoster(t *testing.T) *Poster {
	t.Helper()
	p := NewPoster(Options{AllowPrivate: true, UserAgent: "Coppice/test (+https://coppice.test/)"})
	t.Cleanup(p.CloseIdleConnections)
	return p
}

func TestPosterKeepsItsConnections(t *testing.T) {
	var mu sync.Mutex
	var got []string
	peer := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, fmt.Sprintf("%s %s %s %d %s", r.Method, r.URL.Path, r.UserAgent(), r.ContentLength, b))
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "ok")
	})
	p := testPoster(t)
	for i := range 20 {
		status, answer, err := post(t, context.Background(), p, peer.URL+"/inbox", fmt.Sprintf(`{"n":%d}`, i))
		if err != nil || status != http.StatusAccepted || answer != "ok" {
			t.Fatalf("POST %d = %d %q %v, want 202 \"ok\"", i, status, answer, err)
		}
	}
	big := strings.Repeat("b", 5*posterWriteBuffer+17) // goes out in several writes
	if status, _, err := post(t, context.Background(), p, peer.URL+"/big", big); err != nil || status != http.StatusAccepted {
		t.Fatalf("POST of %d bytes = %d, %v; want 202", len(big), status, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := fmt.Sprintf("POST /big Coppice/test (+https://coppice.test/) %d %s", len(big), big); got[len(got)-1] != want {
		t.Errorf("the peer did not get the %d-byte body whole", len(big))
	}
	if n := peer.conns.Load(); n != 1 {
		t.Errorf("21 POSTs one after the other took %d connections, want 1", n)
	}
	if want := `POST /inbox Coppice/test (+https://coppice.test/) 8 {"n":19}`; len(got) != 21 || got[19] != want {
		t.Errorf("the peer's 20th request = %q, want %q", got[19], want)
	}
}

// TestPosterClosesWhatItCannotReuse: a connection goes back to the pool
// only once its answer was read to the end and neither side asked to close
// it.
func TestPosterClosesWhatItCannotReuse(t *testing.T) {
	peer := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/close":
			w.Header().Set("Connection", "close")
		case "/big":
			io.WriteString(w, strings.Repeat("x", 100<<10))
			return
		case "/chunked":
			for range 3 {
				io.WriteString(w, strings.Repeat("y", 1000))
				w.(http.Flusher).Flush()
			}
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	p := testPoster(t)
	ctx := context.Background()
	send := func(path string) {
		t.Helper()
		if _, _, err := post(t, ctx, p, peer.URL+path, "{}"); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
	}
	send("/chunked")
	send("/inbox")
	if n := peer.conns.Load(); n != 1 {
		t.Fatalf("a chunked answer read to its end and a POST after it took %d connections, want 1", n)
	}
	send("/close")
	send("/inbox")
	if n := peer.conns.Load(); n != 2 {
		t.Errorf("after an answer with Connection: close, %d connections, want 2", n)
	}

	// An answer not read to its end: its connection is closed.
	req, _ := http.NewRequest(http.MethodPost, peer.URL+"/big", strings.NewReader("{}"))
	resp, err := p.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	send("/inbox")
	if n := peer.conns.Load(); n != 3 {
		t.Errorf("after an answer left unread, %d connections, want 3", n)
	}
}

// TestPosterDropsAConnectionWithBytesAfterItsAnswer: a peer that sends
// two answers to one request does not get its second taken for the answer
// to the next request.
func TestPosterDropsAConnectionWithBytesAfterItsAnswer(t *testing.T) {
	var requests atomic.Int64
	u, conns := rawPeer(t, func(c net.Conn, br *bufio.Reader) {
		for readRequest(br) == nil {
			requests.Add(1)
			io.WriteString(c, accepted+"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
		}
	})
	p := testPoster(t)
	for i := range 2 {
		if status, _, err := post(t, context.Background(), p, u+"/inbox", "{}"); err != nil || status != http.StatusAccepted {
			t.Fatalf("POST %d = %d, %v; want 202 (not the 201 left over from the first)", i, status, err)
		}
	}
	if n, r := conns.Load(), requests.Load(); n != 2 || r != 2 {
		t.Errorf("%d connections, %d requests received; want 2 and 2", n, r)
	}
}

// TestPosterDoesNotReadAnEndlessAnswer: closing an answer not read to its
// end closes its connection at once, without reading the rest: a peer can
// send a body as long as it likes.
func TestPosterDoesNotReadAnEndlessAnswer(t *testing.T) {
	var sent atomic.Int64
	u, _ := rawPeer(t, func(c net.Conn, br *bufio.Reader) {
		if readRequest(br) != nil {
			return
		}
		// A length the peer never reaches; the connection is meant to be
		// kept after it.
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1099511627776\r\n\r\n")
		chunk := []byte(strings.Repeat("z", 64<<10))
		for {
			n, err := c.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	req, _ := http.NewRequest(http.MethodPost, u+"/inbox", strings.NewReader("{}"))
	resp, err := testPoster(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { resp.Body.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatalf("Close still reading the endless answer after 10s (%d MB sent)", sent.Load()>>20)
	}
}

// rawPeer is a loopback TCP server whose connections serve is given
// one by one: for answers net/http's server does not give.
func rawPeer(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) (url string, conns *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = new(atomic.Int64)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Go(func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			})
		}
	})
	return "http://" + ln.Addr().String(), conns
}

// readRequest reads one request from br and its body.
func readRequest(br *bufio.Reader) error {
	r, err := http.ReadRequest(br)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, r.Body)
	return err
}

const accepted = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"

// TestPosterSendsAgainWhenAKeptConnectionWasClosed: a peer closes a kept
// connection as it is taken (nginx after its keepalive_timeout): the
// request goes once more on a new connection, and succeeds.
func TestPosterSendsAgainWhenAKeptConnectionWasClosed(t *testing.T) {
	var requests atomic.Int64
	u, conns := rawPeer(t, func(c net.Conn, br *bufio.Reader) {
		// One request per connection, answered without Connection:
		// close, then the connection is closed.
		if readRequest(br) == nil {
			requests.Add(1)
			io.WriteString(c, accepted)
		}
	})
	p := testPoster(t)
	for i := range 3 {
		if status, _, err := post(t, context.Background(), p, u+"/inbox", "{}"); err != nil || status != http.StatusAccepted {
			t.Fatalf("POST %d = %d, %v; want 202", i, status, err)
		}
	}
	if n, r := conns.Load(), requests.Load(); n != 3 || r != 3 {
		t.Errorf("3 POSTs made %d connections and %d requests reached the peer, want 3 and 3", n, r)
	}
}

// TestPosterChecksAConnectionIdleForLong: a kept connection idle for more
// than posterCheckAfter is checked before it is used, and dropped when its
// peer closed it; a live one is used.
func TestPosterChecksAConnectionIdleForLong(t *testing.T) {
	closeAfter := make(chan bool, 4)
	u, conns := rawPeer(t, func(c net.Conn, br *bufio.Reader) {
		for readRequest(br) == nil {
			io.WriteString(c, accepted)
			if <-closeAfter {
				return
			}
		}
	})
	p := testPoster(t)
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	p.now = func() time.Time { return time.Unix(0, clock.Load()) }
	req := func() {
		t.Helper()
		if status, _, err := post(t, context.Background(), p, u+"/inbox", "{}"); err != nil || status != http.StatusAccepted {
			t.Fatalf("POST = %d, %v; want 202", status, err)
		}
	}
	closeAfter <- false
	req()
	clock.Add(int64(10 * time.Second))
	closeAfter <- true
	req() // the connection is alive: used again, then closed by the peer
	if n := conns.Load(); n != 1 {
		t.Fatalf("a live connection idle for 10s was not used again: %d connections", n)
	}
	time.Sleep(50 * time.Millisecond) // the peer's close reaches us
	p.mu.Lock()
	c := p.idle[connKey(mustParse(t, u))][0]
	p.mu.Unlock()
	if c.open() {
		t.Fatal("open() = true for a connection its peer closed")
	}
	clock.Add(int64(10 * time.Second))
	closeAfter <- false
	// A body that cannot be had again: the request could not be sent
	// once more after failing on the closed connection.
	r, _ := http.NewRequest(http.MethodPost, u+"/inbox", io.NopCloser(strings.NewReader("{}")))
	r.ContentLength = 2
	resp, err := p.Do(r)
	if err != nil {
		t.Fatalf("POST after the peer closed the kept connection: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2: the closed one dropped, a new one dialed", n)
	}
}

func TestPosterBoundsAnAnswersHead(t *testing.T) {
	u, _ := rawPeer(t, func(c net.Conn, br *bufio.Reader) {
		if readRequest(br) != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 202 Accepted\r\n")
		line := "X-Filler: " + strings.Repeat("z", 1000) + "\r\n"
		for range 1000 { // 1 MB of headers
			if _, err := io.WriteString(c, line); err != nil {
				return
			}
		}
	})
	_, _, err := post(t, context.Background(), testPoster(t), u+"/inbox", "{}")
	if !errors.Is(err, errHeadersTooLarge) {
		t.Errorf("POST answered with 1 MB of headers = %v, want %v", err, errHeadersTooLarge)
	}
}

func TestPosterSkipsInformationalAnswers(t *testing.T) {
	for _, tt := range []struct {
		name, head string
		want       int
	}{
		{"100 Continue, then 202", "HTTP/1.1 100 Continue\r\n\r\n", http.StatusAccepted},
		{"two 103 Early Hints, then 202", strings.Repeat("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", 2), http.StatusAccepted},
		{"ten 103 Early Hints", strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", 10), 0},
		{"101 Switching Protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := rawPeer(t, func(c net.Conn, br *bufio.Reader) {
				if readRequest(br) == nil {
					io.WriteString(c, tt.head+accepted)
				}
			})
			status, _, err := post(t, context.Background(), testPoster(t), u+"/inbox", "{}")
			if status != tt.want || (tt.want == 0) != (err != nil) {
				t.Errorf("POST = %d, %v; want %d", status, err, tt.want)
			}
		})
	}
}

// TestPosterCutsOffWithItsContext: a peer that never answers holds a
// request only until its context's deadline or cancellation, whose cause
// the error carries; the connection is not kept.
func TestPosterCutsOffWithItsContext(t *testing.T) {
	release := make(chan struct{})
	u, conns := rawPeer(t, func(c net.Conn, br *bufio.Reader) {
		readRequest(br)
		<-release
	})
	defer close(release)
	p := testPoster(t)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, _, err := post(t, ctx, p, u+"/inbox", "{}")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("POST past its deadline = %v, want a timeout", err)
	}

	why := errors.New("the worker is stopping")
	cctx, cut := context.WithCancelCause(context.Background())
	time.AfterFunc(100*time.Millisecond, func() { cut(why) })
	_, _, err = post(t, cctx, p, u+"/inbox", "{}")
	if !errors.Is(err, why) {
		t.Errorf("POST cancelled = %v, want its cause %v", err, why)
	}
	if n, idle := conns.Load(), len(p.idle); n != 2 || idle != 0 {
		t.Errorf("%d connections, %d hosts with kept ones; want 2 and 0", n, idle)
	}
}

// TestPosterGuard: a Poster refuses what NewClient's client refuses, before
// anything is dialed.
func TestPosterGuard(t *testing.T) {
	peer := newPeer(t, func(w http.ResponseWriter, r *http.Request) {})
	host := strings.TrimPrefix(peer.URL, "http://")
	_, port, _ := net.SplitHostPort(host)
	for _, tt := range []struct {
		name string
		opt  Options
		url  string
		want error
	}{
		{"FET-01 a literal loopback address", Options{}, "https://127.0.0.1:" + port + "/inbox", ErrForbiddenAddress},
		{"localhost", Options{}, "https://localhost.:" + port + "/inbox", ErrForbiddenAddress},
		{"http without AllowPrivate", Options{}, "http://coppice.test/inbox", ErrForbiddenURL},
		{"user info", Options{AllowPrivate: true}, "http://a:b@" + host + "/inbox", ErrForbiddenURL},
		{"FET-13 a host the policy refuses", Options{AllowPrivate: true, Policy: func(_ context.Context, h string) (bool, error) {
			return h != host, nil
		}}, peer.URL + "/inbox", ErrRefusedHost},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPoster(tt.opt)
			defer p.CloseIdleConnections()
			_, _, err := post(t, context.Background(), p, tt.url, "{}")
			if !errors.Is(err, tt.want) {
				t.Errorf("POST %s = %v, want %v", tt.url, err, tt.want)
			}
		})
	}
	t.Run("FET-02 its dialer checks the address it connects to", func(t *testing.T) {
		p := NewPoster(Options{})
		_, err := p.dial(context.Background(), mustParse(t, "https://"+host+"/inbox"), host, time.Now().Add(5*time.Second))
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("dial %s = %v, want %v", host, err, ErrForbiddenAddress)
		}
	})
	t.Run("an error of the policy refuses too", func(t *testing.T) {
		p := NewPoster(Options{AllowPrivate: true, Policy: func(context.Context, string) (bool, error) {
			return false, errors.New("database is closed")
		}})
		if _, _, err := post(t, context.Background(), p, peer.URL+"/inbox", "{}"); err == nil {
			t.Error("POST with a failing policy succeeded")
		}
	})
	peer.assertNoConnection(t)
}

func TestPosterOverTLS(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 1 || r.TLS == nil {
			t.Errorf("request over %s, TLS %v; want HTTP/1.1 over TLS", r.Proto, r.TLS != nil)
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	p := testPoster(t)
	for range 3 {
		if status, _, err := post(t, context.Background(), p, srv.URL+"/inbox", "{}"); err == nil || status != 0 {
			t.Fatalf("POST to a peer whose certificate no root signs = %d, %v; want an error", status, err)
		}
	}
	p.tlsConfig.RootCAs = roots
	for i := range 3 {
		if status, _, err := post(t, context.Background(), p, srv.URL+"/inbox", "{}"); err != nil || status != http.StatusAccepted {
			t.Fatalf("POST %d over TLS = %d, %v; want 202", i, status, err)
		}
	}
	if n := conns.Load(); n != 4 {
		t.Errorf("%d connections, want 4: three refused handshakes, then one for three POSTs", n)
	}
}

// TestPosterBoundsWhatItKeeps: at most posterIdlePerHost connections kept
// per host, and none idle for longer than posterIdleTimeout.
func TestPosterBoundsWhatItKeeps(t *testing.T) {
	release := make(chan struct{})
	var arrived sync.WaitGroup
	peer := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/wait" {
			arrived.Done()
			<-release
		}
		w.WriteHeader(http.StatusAccepted)
	})
	p := testPoster(t)
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	p.now = func() time.Time { return time.Unix(0, clock.Load()) }
	const n = posterIdlePerHost + 4
	arrived.Add(n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, _, err := post(t, context.Background(), p, peer.URL+"/wait", "{}"); err != nil {
				t.Error(err)
			}
		})
	}
	arrived.Wait()
	close(release)
	wg.Wait()
	if p.nIdle != posterIdlePerHost {
		t.Errorf("%d connections kept after %d at once to one host, want %d", p.nIdle, n, posterIdlePerHost)
	}
	clock.Add(int64(posterIdleTimeout + time.Second))
	other := newPeer(t, func(w http.ResponseWriter, r *http.Request) {})
	if _, _, err := post(t, context.Background(), p, other.URL+"/inbox", "{}"); err != nil {
		t.Fatal(err)
	}
	if p.nIdle != 1 || len(p.idle) != 1 {
		t.Errorf("after %v idle, %d connections kept to %d hosts; want only the last one", posterIdleTimeout, p.nIdle, len(p.idle))
	}
}
