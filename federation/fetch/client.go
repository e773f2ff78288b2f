package fetch

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/coppice-dev/coppice/internal/hostname"
)

// Limits of the client built by NewClient.
const (
	defaultTimeout        = 30 * time.Second
	connectTimeout        = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 20 * time.Second
	maxResponseHeader     = 64 << 10
	maxRedirects          = 3
)

// Options configure NewClient.
type Options struct {
	// AllowPrivate allows loopback, private and other special-purpose
	// addresses, and http:// URLs (--insecure-federation; tests).
	AllowPrivate bool
	// Timeout is the total deadline of one request, redirects and body
	// included (default 30s).
	Timeout time.Duration
	// UserAgent is sent with every request that sets none, e.g.
	// "Coppice/0.1.0 (+https://host/)".
	UserAgent string
	// Policy, when set, decides for every request, redirects included,
	// whether the instance talks to its host (normalized by
	// internal/hostname): the federation policy, so that no delivery and no
	// fetch reaches a blocked host or, in allowlist mode, a non-partner
	// (FET-13). A refused host fails with ErrRefusedHost before anything
	// is dialed; an error of Policy itself fails the request too.
	Policy func(ctx context.Context, host string) (bool, error)
}

// NewClient returns the one *http.Client of the process for outgoing
// requests (deliveries and fetches).
//
// Unless opt.AllowPrivate is set, its dialer refuses every connection whose
// resolved address is special-purpose (see CheckURL and the package
// documentation), and every request URL and redirect target must pass
// CheckURL. It follows at most 3 redirects. It connects within 10s,
// completes TLS within 10s, gets response headers within 20s and finishes
// within opt.Timeout. It keeps up to 16 idle connections per host (twice the
// delivery worker's default PerHost) and 1,024 in all, does not limit
// connections per host (the delivery worker does), allows HTTP/2, and never
// uses a proxy.
func NewClient(opt Options) *http.Client {
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	// MaxIdleConns: the delivery worker works through its hosts a batch at
	// a time. With 256 idle connections in all, a fan-out to 100 hosts
	// found its connections to a host closed by the time it came back to
	// it, and dialed again for most requests: 4% of its CPU (issue 13).
	// 1,024 brings that to 0.6% and bounds what kept connections cost (a
	// kept HTTP/1.1 connection holds ~25 KB: buffers and two goroutines).
	tr := &http.Transport{
		Proxy:                  nil, // the proxy's address would be checked, not the peer's
		DialContext:            newDialer(opt.AllowPrivate).DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ResponseHeaderTimeout:  responseHeaderTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    16,
		MaxConnsPerHost:        0,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: maxResponseHeader,
	}
	return &http.Client{
		Transport:     &guard{next: tr, allowPrivate: opt.AllowPrivate, userAgent: opt.UserAgent, policy: opt.Policy},
		CheckRedirect: redirectPolicy(opt.AllowPrivate),
		Timeout:       timeout,
	}
}

// newDialer returns a dialer that, unless allowPrivate, refuses to connect
// to a forbidden address. The check runs on the address actually dialed,
// after name resolution, so DNS rebinding is covered too.
func newDialer(allowPrivate bool) *net.Dialer {
	d := &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.ControlContext = checkDial
	}
	return d
}

// checkDial is a net.Dialer ControlContext: it runs after the socket is
// created and before it connects.
func checkDial(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || isForbidden(ap.Addr()) {
		return ErrForbiddenAddress
	}
	return nil
}

// redirectPolicy is the CheckRedirect of NewClient: at most maxRedirects
// redirects, each to a URL that passes CheckURL.
func redirectPolicy(allowPrivate bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return fmt.Errorf("redirect to %s: %w (max %d)", clip(req.URL.Redacted()), errTooManyRedirects, maxRedirects)
		}
		if err := CheckURL(req.URL, allowPrivate); err != nil {
			return fmt.Errorf("redirect to %s: %w", clip(req.URL.Redacted()), err)
		}
		return nil
	}
}

// guard is the RoundTripper of NewClient: it checks every URL, first
// request and redirects alike, against CheckURL and the host policy before
// anything is dialed, and sets the User-Agent.
type guard struct {
	next         *http.Transport
	allowPrivate bool
	userAgent    string
	policy       func(ctx context.Context, host string) (bool, error)
}

// RoundTrip implements http.RoundTripper.
func (g *guard) RoundTrip(r *http.Request) (*http.Response, error) {
	err := CheckURL(r.URL, g.allowPrivate)
	if err == nil {
		err = checkPolicy(r.Context(), g.policy, r.URL)
	}
	if err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, err
	}
	if g.userAgent != "" && r.Header.Get("User-Agent") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", g.userAgent)
	}
	return g.next.RoundTrip(r)
}

// checkPolicy applies the host policy, when there is one, to u's host in
// its normalized spelling.
func checkPolicy(ctx context.Context, policy func(ctx context.Context, host string) (bool, error), u *url.URL) error {
	if policy == nil {
		return nil
	}
	host, err := hostname.FromURL(u)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrForbiddenURL, err)
	}
	ok, err := policy(ctx, host)
	if err != nil {
		return fmt.Errorf("policy of %s: %w", host, err)
	}
	if !ok {
		return fmt.Errorf("%s: %w", host, ErrRefusedHost)
	}
	return nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (g *guard) CloseIdleConnections() { g.next.CloseIdleConnections() }
