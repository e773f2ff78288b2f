package fetch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestDialer(t *testing.T) {
	p := newPeer(t, func(w http.ResponseWriter, r *http.Request) {})
	_, port, err := net.SplitHostPort(p.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	addrs := []struct{ name, addr string }{
		{"FET-01 loopback", "127.0.0.1"},
		{"FET-01 unspecified address, which Linux routes to the local host", "0.0.0.0"},
		{"FET-01 IPv4-mapped loopback", "::ffff:127.0.0.1"},
		{"FET-02 a name resolved to loopback at dial time", "localhost"},
	}
	if l, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		l.Close()
		addrs = append(addrs, struct{ name, addr string }{"FET-01 IPv6 loopback", "::1"})
	}
	d := newDialer(false)
	for _, tt := range addrs {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(tt.addr, port))
			if err == nil {
				conn.Close()
			}
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Errorf("DialContext(%s) = %v, want %v", tt.addr, err, ErrForbiddenAddress)
			}
		})
	}
	p.assertNoConnection(t)

	t.Run("loopback with AllowPrivate", func(t *testing.T) {
		conn, err := newDialer(true).DialContext(context.Background(), "tcp", p.Listener.Addr().String())
		if err != nil {
			t.Fatalf("DialContext(%s) = %v, want a connection", p.Listener.Addr(), err)
		}
		conn.Close()
	})
}

func TestClient(t *testing.T) {
	p := newPeer(t, func(w http.ResponseWriter, r *http.Request) {})

	t.Run("FET-01 a client without AllowPrivate refuses the loopback peer", func(t *testing.T) {
		c := NewClient(Options{Timeout: 5 * time.Second})
		defer c.CloseIdleConnections()
		resp, err := c.Get(p.URL)
		if err == nil {
			resp.Body.Close()
		}
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("Get(%s) = %v, want %v", p.URL, err, ErrForbiddenAddress)
		}
		p.assertNoConnection(t)
	})

	t.Run("default timeout", func(t *testing.T) {
		if got := NewClient(Options{}).Timeout; got != 30*time.Second {
			t.Errorf("NewClient(Options{}).Timeout = %v, want 30s", got)
		}
	})
}

func TestRedirectPolicy(t *testing.T) {
	via := func(n int) []*http.Request {
		reqs := make([]*http.Request, n)
		for i := range reqs {
			reqs[i] = &http.Request{URL: &url.URL{Scheme: "https", Host: "a.example", Path: "/hop"}}
		}
		return reqs
	}
	tests := []struct {
		name         string
		target       string
		hops         int
		allowPrivate bool
		want         error
	}{
		{"third redirect to https", "https://b.example/x", 3, false, nil},
		{"FET-03 fourth redirect", "https://b.example/x", 4, false, errTooManyRedirects},
		{"FET-03 redirect to a private address", "https://10.0.0.1/x", 1, false, ErrForbiddenAddress},
		{"FET-03 redirect to cloud metadata", "http://169.254.169.254/latest/meta-data/", 1, false, ErrForbiddenAddress},
		{"FET-03 redirect to a decimal loopback address", "https://2130706433/", 1, false, ErrForbiddenAddress},
		{"FET-03 redirect to http", "http://b.example/x", 1, false, ErrForbiddenURL},
		{"FET-03 redirect to ftp", "ftp://b.example/x", 1, true, ErrForbiddenURL},
		{"redirect to http with AllowPrivate", "http://127.0.0.1/x", 1, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClient(Options{AllowPrivate: tt.allowPrivate})
			u, err := url.Parse(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			err = c.CheckRedirect(&http.Request{URL: u}, via(tt.hops))
			if tt.want == nil && err != nil || !errors.Is(err, tt.want) {
				t.Errorf("CheckRedirect(%s after %d requests) = %v, want %v", tt.target, tt.hops, err, tt.want)
			}
		})
	}
}
