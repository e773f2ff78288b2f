// Package config holds the configuration of a Coppice process: the Config
// struct, its defaults and its validation. It does not read flags or the
// environment; cmd/coppice does, and passes a Config down by value.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// Defaults of the command-line contract.
const (
	DefaultListen  = "127.0.0.1:8080"
	DefaultBaseURL = "http://localhost:8080"
	DefaultDB      = "./coppice.db"
	DefaultData    = "./coppice-data"
	// DefaultMaxUpload is the largest file a resource may carry.
	DefaultMaxUpload = 20 << 20
)

// Config is the configuration of one Coppice process.
type Config struct {
	// Listen is the TCP address the HTTP server listens on.
	Listen string
	// BaseURL is the public origin every id and link is built from, port included.
	BaseURL string
	// DB is the database: the path of an SQLite file, or a postgres:// URL.
	DB string
	// Data is the directory uploaded files are stored under.
	Data string
	// MaxUpload is the largest uploaded file in bytes.
	MaxUpload int64
	// InsecureFederation allows http:// peers and loopback or private
	// addresses. For local testing only.
	InsecureFederation bool
	// AuthorizedFetch requires signed GETs of our objects, collections and
	// actors (Mastodon's secure mode).
	AuthorizedFetch bool
	// MetricsListen is the TCP address /metrics is served on, apart from
	// the public listener; empty serves no metrics.
	MetricsListen string
	// LogFormat is "text" or "json".
	LogFormat string
	// TrustedProxy lists the reverse proxies (CIDRs or addresses, comma
	// separated) whose X-Forwarded-For names the client; empty: none, and
	// every client is the address it connects from.
	TrustedProxy string
	// InboxActorBurst and InboxHostBurst are how many activities one actor
	// and one host may send at once before the inbox rate limits slow them
	// down; 0 keeps federation.DefaultRate. Load tests raise them.
	InboxActorBurst int
	InboxHostBurst  int
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{Listen: DefaultListen, BaseURL: DefaultBaseURL, DB: DefaultDB, Data: DefaultData, MaxUpload: DefaultMaxUpload, LogFormat: "text"}
}

// Validate checks c and returns an error naming every bad field.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen %q: want host:port: %w", c.Listen, err))
	}
	if _, err := ParseBaseURL(c.BaseURL); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(c.DB) == "" {
		errs = append(errs, errors.New("db: empty path"))
	}
	if strings.TrimSpace(c.Data) == "" {
		errs = append(errs, errors.New("data: empty path"))
	}
	if c.InboxActorBurst < 0 || c.InboxHostBurst < 0 {
		errs = append(errs, errors.New("inbox-actor-burst, inbox-host-burst: must not be negative"))
	}
	if c.MaxUpload <= 0 {
		errs = append(errs, errors.New("max-upload: must be positive"))
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			errs = append(errs, fmt.Errorf("metrics-listen %q: want host:port: %w", c.MetricsListen, err))
		} else if c.MetricsListen == c.Listen {
			errs = append(errs, fmt.Errorf("metrics-listen %q: must differ from listen", c.MetricsListen))
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format %q: want text or json", c.LogFormat))
	}
	if _, err := ParseTrustedProxies(c.TrustedProxy); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ParseBaseURL parses a base URL: http or https, a host, no path beyond "/",
// no query or fragment. The result has no trailing slash.
func ParseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("base URL %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("base URL %q: scheme must be http or https", s)
	}
	if u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("base URL %q: want scheme://host[:port]", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("base URL %q: must not have a path, query or fragment", s)
	}
	u.Path = ""
	u.Host = strings.ToLower(u.Host)
	return u, nil
}

// ParseTrustedProxies parses a comma-separated list of CIDRs (10.0.0.0/8)
// or single addresses (127.0.0.1, ::1). An empty list is nil.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("trusted-proxy %q: want a CIDR or an IP address", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
