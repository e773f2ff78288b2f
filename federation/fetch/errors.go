package fetch

import (
	"errors"
	"strings"
)

// ErrForbiddenAddress is returned (wrapped) when a request would reach a
// loopback, private or other special-purpose address.
var ErrForbiddenAddress = errors.New("forbidden address")

// ErrForbiddenURL is returned (wrapped) for a URL that is never fetched: a
// scheme other than https (and http with AllowPrivate), user info, no host.
var ErrForbiddenURL = errors.New("forbidden URL")

// ErrRefusedHost is returned (wrapped) for a request to a host the
// instance does not federate with (Options.Policy).
var ErrRefusedHost = errors.New("host refused by the federation policy")

// errTooManyRedirects ends a redirect chain longer than maxRedirects.
var errTooManyRedirects = errors.New("too many redirects")

// Kind says why a fetch failed, so that callers can choose their answer.
type Kind int

const (
	// KindUnreachable: connection refused, DNS failure, timeout, or a 408,
	// 429 or 5xx status. Retryable; an inbox answers 503.
	KindUnreachable Kind = iota + 1
	// KindNotFound: status 404 or 410.
	KindNotFound
	// KindInvalid: the peer answered with something we refuse: another
	// status, a content type that is not ActivityStreams, a body too large,
	// bad JSON, or an id that does not match the URL.
	KindInvalid
	// KindForbidden: the URL or its address is not allowed; nothing was
	// sent.
	KindForbidden
)

// String returns the kind in a few words.
func (k Kind) String() string {
	switch k {
	case KindUnreachable:
		return "unreachable"
	case KindNotFound:
		return "not found"
	case KindInvalid:
		return "invalid"
	case KindForbidden:
		return "forbidden"
	}
	return "unknown"
}

// Error is a failed fetch.
type Error struct {
	Kind Kind
	// URL is the URL of the request that failed.
	URL string
	Err error
}

// Error returns "fetch URL: reason".
func (e *Error) Error() string { return "fetch " + e.URL + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *Error) Unwrap() error { return e.Err }

// signError marks an error of the Signer, returned from inside the
// redirect policy, so that it is not mistaken for a network error.
type signError struct{ err error }

func (e *signError) Error() string { return e.err.Error() }
func (e *signError) Unwrap() error { return e.err }

// clip shortens peer-supplied text for error messages.
func clip(s string) string {
	const limit = 80
	if len(s) <= limit {
		return s
	}
	return strings.ToValidUTF8(s[:limit], "") + "…"
}
