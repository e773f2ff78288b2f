package fetch

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Limits of a Poster's connections.
const (
	// posterIdlePerHost is twice the delivery worker's default PerHost.
	posterIdlePerHost = 16
	// posterIdle: the worker works through its hosts a batch at a time.
	// With 256 idle connections in all, a fan-out to 100 hosts found its
	// connections to a host closed by the time it came back to it and
	// dialed again for most requests: 4% of its CPU; 1,024 brought that
	// to 0.6% (issue 13). A kept connection holds its buffers, 12 KB.
	posterIdle        = 1024
	posterIdleTimeout = 90 * time.Second
	// posterCheckAfter: a connection idle longer than this is checked for
	// a close by its peer before it is used again.
	posterCheckAfter = time.Second
	posterReadBuffer = 4 << 10
	// posterWriteBuffer holds the headers and body of a usual delivery
	// (3–6 KB), so that each goes out in one write; a bigger one goes out
	// in several. Each kept connection holds one.
	posterWriteBuffer = 8 << 10
	maxInformational  = 5 // 1xx answers skipped before the real one
)

// Poster sends the delivery worker's requests: each on its caller's
// goroutine, over HTTP/1.1 connections it keeps per host, under the same
// guard as NewClient's client (CheckURL, the dialer's address check, the
// federation policy) and the same bounds (10s to connect, 10s for TLS, 64
// KiB of response headers), keeping 16 idle connections per host, 1,024 in
// all, for 90s.
//
// It exists for speed: net/http's client hands each request to two
// goroutines of its connection (one writes, one reads) and back, ~15 µs of
// CPU a delivery beyond the system calls (issue 13). A Poster never
// follows redirects, never uses HTTP/2 or a proxy, and sends no
// Accept-Encoding. Its zero value is not usable; see NewPoster.
type Poster struct {
	dialer       *net.Dialer
	allowPrivate bool
	userAgent    string
	policy       func(ctx context.Context, host string) (bool, error)
	tlsConfig    *tls.Config // cloned per connection with its ServerName
	now          func() time.Time

	mu    sync.Mutex
	idle  map[string][]*conn // by connKey; the most recently used last
	nIdle int
	swept time.Time
}

// NewPoster returns a Poster with opt's guard. opt.Timeout is the deadline
// of a request whose context has none.
func NewPoster(opt Options) *Poster {
	return &Poster{
		dialer:       newDialer(opt.AllowPrivate),
		allowPrivate: opt.AllowPrivate,
		userAgent:    opt.UserAgent,
		policy:       opt.Policy,
		tlsConfig:    &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}},
		now:          time.Now,
		idle:         map[string][]*conn{},
	}
}

// conn is one kept connection.
type conn struct {
	key  string
	nc   net.Conn // what is read and written: TLS when https
	raw  net.Conn // the TCP connection under it
	br   *bufio.Reader
	bw   *bufio.Writer
	in   limitedReader // under br: bounds the bytes of an answer's headers
	used time.Time     // when it was last put back
}

// limitedReader reads from r and fails once more than n bytes were read,
// when n ≥ 0.
type limitedReader struct {
	r    io.Reader
	n    int64
	read int64 // bytes read since the last reset
}

var errHeadersTooLarge = errors.New("response headers too large")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n >= 0 {
		if l.read >= l.n {
			return 0, errHeadersTooLarge
		}
		p = p[:min(int64(len(p)), l.n-l.read)]
	}
	k, err := l.r.Read(p)
	l.read += int64(k)
	return k, err
}

// Do sends req and returns its answer, whose Body the caller must close.
// The connection is kept for another request only when the Body was read
// to its end. req's context bounds and cancels the whole exchange; without
// a deadline, the exchange has 30s. Do sets req's User-Agent when it has
// none.
//
// A request that failed on a kept connection before any byte of an answer
// came is sent once more on a new connection when its body can be had
// again (req.GetBody): the peer may have closed the connection as it was
// taken.
func (p *Poster) Do(req *http.Request) (*http.Response, error) {
	resp, err := p.do(req)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &url.Error{Op: urlOp(req.Method), URL: req.URL.Redacted(), Err: err}
	}
	return resp, nil
}

func (p *Poster) do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := CheckURL(req.URL, p.allowPrivate); err != nil {
		return nil, err
	}
	if err := checkPolicy(ctx, p.policy, req.URL); err != nil {
		return nil, err
	}
	if p.userAgent != "" && req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", p.userAgent)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = p.now().Add(defaultTimeout)
	}
	key := connKey(req.URL)
	for again := false; ; again = true {
		c := p.take(key)
		fresh := c == nil
		if fresh {
			var err error
			if c, err = p.dial(ctx, req.URL, key, deadline); err != nil {
				return nil, err
			}
		}
		resp, err := p.exchange(ctx, c, req, deadline)
		if err == nil {
			return resp, nil
		}
		if fresh || again || c.in.read > 0 || req.GetBody == nil || ctx.Err() != nil {
			return nil, err
		}
		body, gerr := req.GetBody()
		if gerr != nil {
			return nil, err
		}
		req.Body = body
	}
}

// exchange writes req on c and reads the head of its answer. On failure c
// is closed.
func (p *Poster) exchange(ctx context.Context, c *conn, req *http.Request, deadline time.Time) (*http.Response, error) {
	if err := c.nc.SetDeadline(deadline); err != nil {
		c.close()
		return nil, err
	}
	// Cancelling ctx cuts the exchange: every read and write fails at once.
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		stop()
		c.close()
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, err
	}
	c.in.read, c.in.n = 0, maxResponseHeader
	err := req.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	if err != nil {
		return fail(err)
	}
	var resp *http.Response
	for range maxInformational + 1 {
		resp, err = http.ReadResponse(c.br, req)
		if err != nil || resp.StatusCode >= 200 || resp.StatusCode < 100 {
			break
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return fail(errors.New("unexpected 101 Switching Protocols"))
		}
		c.in.read = 0 // the next head has its own bound
	}
	if err == nil && resp.StatusCode < 200 {
		err = fmt.Errorf("more than %d informational answers", maxInformational)
	}
	if err != nil {
		return fail(err)
	}
	c.in.n = -1 // the body is bounded by its reader
	resp.Body = &answer{body: resp.Body, c: c, p: p, stop: stop, keep: !resp.Close && !req.Close,
		eof: resp.Body == http.NoBody}
	return resp, nil
}

// answer is the Body of a Poster's response: closing it puts the
// connection back when the body was read to its end.
type answer struct {
	body   io.ReadCloser
	c      *conn
	p      *Poster
	stop   func() bool
	keep   bool
	eof    bool
	closed bool
}

func (a *answer) Read(b []byte) (int, error) {
	if a.closed {
		return 0, errors.New("read after close")
	}
	n, err := a.body.Read(b)
	if err == io.EOF {
		a.eof = true
	}
	return n, err
}

func (a *answer) Close() error {
	if a.closed {
		return nil
	}
	a.closed = true
	// stop is false when the context was cancelled meanwhile: its cut
	// may reach the connection at any moment.
	// Bytes after the answer are no answer to anything we sent: the
	// connection is not kept, or they would pass for the next one's.
	if a.stop() && a.eof && a.keep && a.c.br.Buffered() == 0 {
		a.body.Close() // at its end: reads nothing
		a.p.put(a.c)
		return nil
	}
	// The connection first: closing a body of http.ReadResponse not read
	// to its end reads the rest, which a peer can make endless.
	a.c.close()
	a.body.Close()
	return nil
}

// connKey names the connections that can carry requests to u.
func connKey(u *url.URL) string {
	return u.Scheme + "://" + hostPort(u)
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// dial connects to u's host, through TLS for https.
func (p *Poster) dial(ctx context.Context, u *url.URL, key string, deadline time.Time) (*conn, error) {
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	raw, err := p.dialer.DialContext(dctx, "tcp", hostPort(u))
	if err != nil {
		return nil, err
	}
	nc := raw
	if u.Scheme == "https" {
		cfg := p.tlsConfig.Clone()
		cfg.ServerName = u.Hostname()
		tc := tls.Client(raw, cfg)
		hctx, hcancel := context.WithTimeout(dctx, tlsHandshakeTimeout)
		err := tc.HandshakeContext(hctx)
		hcancel()
		if err != nil {
			raw.Close()
			return nil, err
		}
		nc = tc
	}
	c := &conn{key: key, nc: nc, raw: raw}
	c.in.r, c.in.n = nc, -1
	c.br = bufio.NewReaderSize(&c.in, posterReadBuffer)
	c.bw = bufio.NewWriterSize(nc, posterWriteBuffer)
	return c, nil
}

func (c *conn) close() { c.nc.Close() }

// take returns a kept connection for key, or nil.
func (p *Poster) take(key string) *conn {
	now := p.now()
	for {
		p.mu.Lock()
		list := p.idle[key]
		if len(list) == 0 {
			p.mu.Unlock()
			return nil
		}
		c := list[len(list)-1]
		list[len(list)-1] = nil
		if len(list) == 1 {
			delete(p.idle, key)
		} else {
			p.idle[key] = list[:len(list)-1]
		}
		p.nIdle--
		p.mu.Unlock()
		idle := now.Sub(c.used)
		if idle < posterCheckAfter || (idle < posterIdleTimeout && c.open()) {
			return c
		}
		c.close()
	}
}

// open says whether c is still open: nothing came from its peer while it
// was idle, neither bytes (an HTTP/1.1 peer sends none unasked) nor the end.
func (c *conn) open() bool {
	if c.br.Buffered() > 0 {
		return false
	}
	sc, ok := c.raw.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, errno := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = errno == syscall.EAGAIN || errno == syscall.EWOULDBLOCK
		return true
	})
	return err == nil && open
}

// put keeps c for another request, unless its host or the Poster has
// enough kept.
func (p *Poster) put(c *conn) {
	now := p.now()
	c.used = now
	var old []*conn
	p.mu.Lock()
	if now.Sub(p.swept) > posterIdleTimeout/3 {
		old = p.sweepLocked(now)
	}
	keep := p.nIdle < posterIdle && len(p.idle[c.key]) < posterIdlePerHost
	if keep {
		p.idle[c.key] = append(p.idle[c.key], c)
		p.nIdle++
	}
	p.mu.Unlock()
	for _, o := range old {
		o.close()
	}
	if !keep {
		c.close()
	}
}

// sweepLocked removes the connections idle for longer than
// posterIdleTimeout and returns them to be closed.
func (p *Poster) sweepLocked(now time.Time) []*conn {
	p.swept = now
	var old []*conn
	for key, list := range p.idle {
		kept := list[:0]
		for _, c := range list {
			if now.Sub(c.used) > posterIdleTimeout {
				old = append(old, c)
			} else {
				kept = append(kept, c)
			}
		}
		clear(list[len(kept):])
		if len(kept) == 0 {
			delete(p.idle, key)
		} else {
			p.idle[key] = kept
		}
	}
	p.nIdle -= len(old)
	return old
}

// CloseIdleConnections closes every kept connection.
func (p *Poster) CloseIdleConnections() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.nIdle = map[string][]*conn{}, 0
	p.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			c.close()
		}
	}
}

// urlOp spells a method as net/http's errors do: "Post".
func urlOp(method string) string {
	if len(method) < 2 {
		return method
	}
	return method[:1] + strings.ToLower(method[1:])
}
