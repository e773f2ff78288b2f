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

// NewClient returns the one *http.Client of the process for fetches (the
// deliveries go through a Poster).
//
// Unless opt.AllowPrivate is set, its dialer refuses every connection whose
// resolved address is special-purpose (see CheckURL and the package
// documentation), and every request URL and redirect target must pass
// CheckURL. It follows at most 3 redirects. It connects within 10s,
// completes TLS within 10s, gets response headers within 20s and finishes
// within opt.Timeout. It keeps up to 4 idle connections per host and 128
// in all, for 30s, allows HTTP/2, and never uses a proxy.
func NewClient(opt Options) *http.Client {
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	// Idle connections: a fetch is followed by a few more on its host (an
	// actor, its key, the host's NodeInfo, WebFinger), seldom by many. A
	// kept HTTP/1.1 connection holds ~25 KB and two goroutines: 1,000
	// followers on 1,000 hosts left 2,000 idle goroutines from their
	// follows, and scanning their stacks took ~5% of the CPU of the fan-out
	// that came next (issue 13).
	tr := &http.Transport{
		Proxy:                  nil, // the proxy's address would be checked, not the peer's
		DialContext:            newDialer(opt.AllowPrivate).DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ResponseHeaderTimeout:  responseHeaderTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           128,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        30 * time.Second,
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
