package fetch

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

const (
	defaultMaxBytes = 1 << 20
	acceptHeader    = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
)

// Signer signs a GET request with the instance actor's key. The Fetcher
// calls it for every request it sends, redirects included; nil means
// unsigned.
type Signer func(r *http.Request) error

// FetcherOptions configure NewFetcher.
type FetcherOptions struct {
	// MaxBytes is the largest body accepted, counted after decompression
	// (default 1 MiB).
	MaxBytes int64
	// AllowPrivate allows http:// URLs and special-purpose addresses. Set
	// it as in the client's Options.
	AllowPrivate bool
}

// Fetcher fetches ActivityStreams documents. It is safe for concurrent use
// if its Signer is.
type Fetcher struct {
	client       *http.Client
	sign         Signer
	maxBytes     int64
	allowPrivate bool
}

// NewFetcher returns a Fetcher that sends its requests through client,
// normally the one built by NewClient, which must not be nil. The Fetcher
// uses a copy of client whose redirect policy also signs every hop afresh.
func NewFetcher(client *http.Client, sign Signer, opt FetcherOptions) *Fetcher {
	if client == nil {
		panic("fetch: NewFetcher with a nil client")
	}
	f := &Fetcher{sign: sign, maxBytes: opt.MaxBytes, allowPrivate: opt.AllowPrivate}
	if f.maxBytes <= 0 {
		f.maxBytes = defaultMaxBytes
	}
	c := *client
	c.CheckRedirect = f.checkRedirect(client.CheckRedirect)
	f.client = &c
	return f
}

// Fetch GETs rawURL, signed by the Signer, with Accept:
// application/activity+json, application/ld+json;
// profile="https://www.w3.org/ns/activitystreams". It returns the body and
// the document's id, under the conditions listed in the package
// documentation. When the document names another id on the same origin,
// Fetch GETs that id once more, so it sends at most two requests, each
// bounded by the client's Timeout. Every error is an *Error, except a
// failure of the Signer, which is our own and is returned wrapped as is.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (body []byte, id *url.URL, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, &Error{Kind: KindInvalid, URL: rawURL, Err: errors.New("bad URL")}
	}
	doc, err := f.get(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	if !sameOrigin(doc.id, u) {
		return nil, nil, &Error{Kind: KindInvalid, URL: u.Redacted(),
			Err: fmt.Errorf("id %s is on another origin", clip(doc.id.Redacted()))}
	}
	if sameDocument(doc.id, doc.final) {
		return doc.body, doc.id, nil
	}
	// ORI-04: the document names another document of the same origin.
	// Trust it only as served from its own URL.
	again, err := f.get(ctx, doc.id)
	if err != nil {
		return nil, nil, err
	}
	if !sameDocument(again.id, doc.id) || !sameDocument(again.id, again.final) {
		return nil, nil, &Error{Kind: KindInvalid, URL: doc.id.Redacted(),
			Err: fmt.Errorf("id %s is not the URL fetched", clip(again.id.Redacted()))}
	}
	return again.body, again.id, nil
}

// document is one response accepted by get.
type document struct {
	body  []byte
	final *url.URL // the URL fetched after redirects
	id    *url.URL // the top-level "id"
}

// get sends one signed GET and checks status, content type, encoding, size
// and JSON shape, but not the id.
func (f *Fetcher) get(ctx context.Context, u *url.URL) (document, error) {
	target := u.Redacted()
	fail := func(kind Kind, err error) (document, error) {
		return document{}, &Error{Kind: kind, URL: target, Err: err}
	}
	if err := CheckURL(u, f.allowPrivate); err != nil {
		return fail(KindForbidden, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(KindInvalid, errors.New("bad URL"))
	}
	req.Header.Set("Accept", acceptHeader)
	if f.sign != nil {
		if err := f.sign(req); err != nil {
			return document{}, fmt.Errorf("fetch %s: %w", target, err)
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		var se *signError
		if errors.As(err, &se) {
			return document{}, fmt.Errorf("fetch %s: %w", target, se.err)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		switch {
		case errors.Is(err, ErrForbiddenAddress), errors.Is(err, ErrForbiddenURL), errors.Is(err, ErrRefusedHost):
			return fail(KindForbidden, err)
		case errors.Is(err, errTooManyRedirects):
			return fail(KindInvalid, err)
		}
		return fail(KindUnreachable, err)
	}
	defer resp.Body.Close()

	switch c := resp.StatusCode; {
	case c == http.StatusOK:
	case c == http.StatusNotFound || c == http.StatusGone:
		return fail(KindNotFound, statusError(c))
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		return fail(KindUnreachable, statusError(c))
	default:
		return fail(KindInvalid, statusError(c))
	}
	if err := checkContentType(resp.Header.Get("Content-Type")); err != nil {
		return fail(KindInvalid, err)
	}
	// The transport decodes gzip itself, and removes the header, when it
	// asked for it; anything still encoded was sent unasked.
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return fail(KindInvalid, fmt.Errorf("content encoding %s is not supported", clip(ce)))
	}
	tooLarge := fmt.Errorf("body too large (over %d bytes)", f.maxBytes)
	if resp.ContentLength > f.maxBytes {
		return fail(KindInvalid, tooLarge)
	}
	// resp.Body is the decoded stream, so the limit counts decoded bytes
	// and a gzip bomb stops after MaxBytes+1 of them.
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		if isCorrupt(err) {
			return fail(KindInvalid, fmt.Errorf("read body: %w", err))
		}
		return fail(KindUnreachable, fmt.Errorf("read body: %w", err))
	}
	if int64(len(body)) > f.maxBytes {
		return fail(KindInvalid, tooLarge)
	}
	id, err := documentID(body)
	if err != nil {
		return fail(KindInvalid, err)
	}
	return document{body: body, final: resp.Request.URL, id: id}, nil
}

// checkRedirect wraps the client's redirect policy: it applies
// redirectPolicy with the Fetcher's AllowPrivate, then next, then signs
// the new request.
func (f *Fetcher) checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	policy := redirectPolicy(f.allowPrivate)
	return func(req *http.Request, via []*http.Request) error {
		if err := policy(req, via); err != nil {
			return err
		}
		if next != nil {
			if err := next(req, via); err != nil {
				return err
			}
		}
		return f.signRedirect(req)
	}
}

// signRedirect replaces the signature headers, which the client copies
// from the first request to every redirect, with a signature of req itself.
func (f *Fetcher) signRedirect(req *http.Request) error {
	for _, h := range []string{"Signature", "Signature-Input", "Authorization", "Date", "Digest", "Host", "Referer"} {
		req.Header.Del(h)
	}
	if f.sign == nil {
		return nil
	}
	if err := f.sign(req); err != nil {
		return &signError{err: err}
	}
	return nil
}

func statusError(code int) error {
	return fmt.Errorf("status %d %s", code, http.StatusText(code))
}

// checkContentType accepts the two ActivityStreams media types, with any
// parameters. application/json is refused: see the package documentation.
func checkContentType(header string) error {
	if header == "" {
		return errors.New("no content type")
	}
	mediaType, _, err := mime.ParseMediaType(header)
	if err != nil {
		return errors.New("bad content type")
	}
	switch mediaType {
	case "application/activity+json", "application/ld+json":
		return nil
	}
	return fmt.Errorf("content type %s is not ActivityStreams", clip(mediaType))
}

// isCorrupt reports whether a body read failed on a bad gzip stream rather
// than on the network.
func isCorrupt(err error) bool {
	var ce flate.CorruptInputError
	return errors.As(err, &ce) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum)
}

// documentID returns the top-level "id" of a JSON object. The body must be
// exactly one object, with exactly one "id", a string holding an absolute
// http(s) URL without user info.
func documentID(body []byte) (*url.URL, error) {
	if !utf8.Valid(body) {
		// JSON is UTF-8 (RFC 8259); encoding/json would pass other bytes
		// through, and PostgreSQL refuses to store them (PAR-07).
		return nil, errors.New("body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("body is not a JSON object")
	}
	var raw string
	seen := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("parse JSON: %w", err)
		}
		if key, _ := tok.(string); key == "id" {
			if seen {
				return nil, errors.New("duplicate id")
			}
			seen = true
			if err := dec.Decode(&raw); err != nil {
				return nil, errors.New("id is not a string")
			}
			continue
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, fmt.Errorf("parse JSON: %w", err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("parse JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	if raw == "" {
		return nil, errors.New("no id")
	}
	id, err := url.Parse(raw)
	if err != nil || (id.Scheme != "https" && id.Scheme != "http") || id.Opaque != "" || id.User != nil || id.Host == "" {
		return nil, fmt.Errorf("id %q is not an http(s) URL", clip(raw))
	}
	return id, nil
}

// sameOrigin reports whether a and b have the same scheme, host (ASCII
// case-insensitive, otherwise exact) and port (default ports made
// explicit).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		asciiLower(a.Hostname()) == asciiLower(b.Hostname()) &&
		port(a) == port(b)
}

// sameDocument reports whether a and b name the same document: same
// origin, path and query; the fragment does not count.
func sameDocument(a, b *url.URL) bool {
	return sameOrigin(a, b) && path(a) == path(b) && a.RawQuery == b.RawQuery
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}

func path(u *url.URL) string {
	if p := u.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// asciiLower lowercases ASCII letters only, so that no Unicode case
// folding (the Kelvin sign K is "k" to strings.ToLower) can make two hosts
// equal.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// GetJSON GETs a plain JSON document (NodeInfo, say) through the same
// guarded client, unsigned, with the same status, encoding and size checks
// as Fetch, but for a JSON content type and without an id. Every error is
// an *Error.
func (f *Fetcher) GetJSON(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &Error{Kind: KindInvalid, URL: rawURL, Err: errors.New("bad URL")}
	}
	target := u.Redacted()
	fail := func(kind Kind, err error) ([]byte, error) { return nil, &Error{Kind: kind, URL: target, Err: err} }
	if err := CheckURL(u, f.allowPrivate); err != nil {
		return fail(KindForbidden, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(KindInvalid, errors.New("bad URL"))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return fail(KindUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(KindInvalid, statusError(resp.StatusCode))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return fail(KindInvalid, fmt.Errorf("content type %s is not JSON", clip(mt)))
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return fail(KindInvalid, fmt.Errorf("content encoding %s is not supported", clip(ce)))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return fail(KindUnreachable, fmt.Errorf("read body: %w", err))
	}
	if int64(len(body)) > f.maxBytes {
		return fail(KindInvalid, fmt.Errorf("body too large (over %d bytes)", f.maxBytes))
	}
	return body, nil
}
