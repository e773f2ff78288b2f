// Package hostname turns the host of a URL, or a host an admin typed, into
// the one spelling Coppice stores and compares: lower case, IDNA (punycode)
// for non-ASCII names, no trailing dot, IP addresses in their canonical
// form, and no port when it is the scheme's default. Host policies, delivery
// hosts and actor hosts are all compared in this spelling only, so a peer
// cannot pass a block of gts.test as GTS.test, gts.test., gts.test:80 or a
// Unicode look-alike that maps to it.
//
// It knows nothing about policies; storage compares the normalized hosts.
package hostname

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// ErrInvalid is returned (wrapped) for a host that has no normalized form.
var ErrInvalid = errors.New("invalid host")

// maxName is the longest domain name (RFC 1035 §2.3.4, without the dot).
const maxName = 253

// FromURL returns the normalized host[:port] of u. The port is dropped when
// it is the default of u's scheme (80 for http, 443 for https).
func FromURL(u *url.URL) (string, error) {
	if u == nil || u.Host == "" {
		return "", fmt.Errorf("%w: no host", ErrInvalid)
	}
	return normalize(u.Hostname(), u.Port(), strings.ToLower(u.Scheme))
}

// Of returns the normalized host of rawURL, or "" when it has none.
func Of(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	h, err := FromURL(u)
	if err != nil {
		return ""
	}
	return h
}

// Parse normalizes a host typed by an admin: "gts.test", "GTS.Test.",
// "gts.test:8443", "[::1]:8080" or a URL such as "https://gts.test/". With
// no scheme, ports 80 and 443 both count as default and are dropped.
func Parse(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || u.User != nil {
			return "", fmt.Errorf("%w: %q", ErrInvalid, clip(s))
		}
		return FromURL(u)
	}
	if strings.ContainsAny(s, "/@?#\\ ") {
		return "", fmt.Errorf("%w: %q", ErrInvalid, clip(s))
	}
	u, err := url.Parse("//" + s)
	if err != nil || u.Host != s {
		return "", fmt.Errorf("%w: %q", ErrInvalid, clip(s))
	}
	return normalize(u.Hostname(), u.Port(), "")
}

// normalize builds host[:port] from the parts url.URL gives.
func normalize(name, port, scheme string) (string, error) {
	host, err := normalizeName(name)
	if err != nil {
		return "", err
	}
	p, err := normalizePort(port, scheme)
	if err != nil {
		return "", err
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p != "" {
		host += ":" + p
	}
	return host, nil
}

func normalizeName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty name", ErrInvalid)
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		if ip.Zone() != "" {
			return "", fmt.Errorf("%w: zone in %q", ErrInvalid, clip(name))
		}
		return ip.Unmap().String(), nil
	}
	// One trailing dot is the absolute spelling of the same name.
	name = strings.TrimSuffix(name, ".")
	if !isASCII(name) {
		// UTS 46 mapping, as net/http does before it dials: full-width
		// letters, upper case and other look-alikes map to the name the
		// request would reach.
		a, err := idna.Lookup.ToASCII(name)
		if err != nil {
			return "", fmt.Errorf("%w: %q: %v", ErrInvalid, clip(name), err)
		}
		name = strings.TrimSuffix(a, ".")
	}
	name = asciiLower(name)
	if name == "" || len(name) > maxName {
		return "", fmt.Errorf("%w: %q", ErrInvalid, clip(name))
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "", fmt.Errorf("%w: empty or long label in %q", ErrInvalid, clip(name))
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("%w: %q", ErrInvalid, clip(name))
			}
		}
	}
	// A name whose last label is a number is an IP address in another
	// spelling (2130706433, 127.1) or nothing at all: never a host name.
	if isDigits(labels[len(labels)-1]) {
		return "", fmt.Errorf("%w: %q is not a canonical IP address", ErrInvalid, clip(name))
	}
	return name, nil
}

func normalizePort(port, scheme string) (string, error) {
	if port == "" {
		return "", nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 || !isDigits(port) {
		return "", fmt.Errorf("%w: port %q", ErrInvalid, clip(port))
	}
	switch {
	case n == 80 && (scheme == "http" || scheme == ""), n == 443 && (scheme == "https" || scheme == ""):
		return "", nil
	}
	return strconv.Itoa(n), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// asciiLower lowercases ASCII letters only: no Unicode case folding (the
// Kelvin sign is "k" to strings.ToLower) happens outside IDNA.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func clip(s string) string {
	if len(s) > 80 {
		return strings.ToValidUTF8(s[:80], "") + "…"
	}
	return s
}

// Registrable returns the registrable domain of a normalized host (as Of
// gives it): example.org for a.b.example.org:8443, alice.github.io under
// the public suffix list. The subdomains of one registrable domain cost
// their owner nothing, so limits meant for one party key on it (FET-10,
// RAT-02). An IP address, or a name with no registrable part (a public
// suffix itself, localhost), is its own, port included.
func Registrable(host string) string {
	name, _, err := net.SplitHostPort(host)
	if err != nil {
		name = host
	}
	if _, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
		return host
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(name)
	if err != nil {
		return host
	}
	return d
}
