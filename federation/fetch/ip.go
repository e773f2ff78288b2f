package fetch

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// forbiddenPrefixes lists the special-purpose ranges a peer may not be in:
// the IANA IPv4 and IPv6 special-purpose address registries (entries that
// are not globally reachable), plus multicast, reserved and deprecated
// ranges. IPv4-mapped (::ffff:0:0/96) and 6to4 (2002::/16) addresses are
// judged by the IPv4 address they carry; see isForbidden.
func forbiddenPrefixes() []string {
	return []string{
		"0.0.0.0/8",       // "this network"; 0.0.0.0 reaches the local host
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // shared address space (carrier-grade NAT)
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, cloud metadata (169.254.169.254)
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation (TEST-NET-1)
		"192.88.99.0/24",  // deprecated 6to4 relay anycast
		"192.168.0.0/16",  // private
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation (TEST-NET-2)
		"203.0.113.0/24",  // documentation (TEST-NET-3)
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, and 255.255.255.255 broadcast
		"::/96",           // unspecified, loopback, deprecated IPv4-compatible
		"64:ff9b::/96",    // NAT64: would reach any IPv4 address
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard-only
		"2001::/23",       // IETF protocol assignments, Teredo
		"2001:db8::/32",   // documentation
		"3fff::/20",       // documentation
		"5f00::/16",       // segment routing SIDs
		"fc00::/7",        // unique local
		"fe80::/10",       // link-local
		"fec0::/10",       // deprecated site-local
		"ff00::/8",        // multicast
	}
}

// isForbidden reports whether a is an address no outgoing request may
// reach. An invalid address is forbidden.
func isForbidden(a netip.Addr) bool {
	if !a.IsValid() {
		return true
	}
	a = a.WithZone("")
	if a.Is4In6() {
		a = a.Unmap()
	}
	if a.Is6() && a.As16()[0] == 0x20 && a.As16()[1] == 0x02 {
		// 6to4 (2002::/16): relays forward to the embedded IPv4 address.
		b := a.As16()
		if isForbidden(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})) {
			return true
		}
	}
	for _, s := range forbiddenPrefixes() {
		if netip.MustParsePrefix(s).Contains(a) {
			return true
		}
	}
	return false
}

// CheckURL reports whether u may be requested at all, before any name is
// resolved. It rejects (wrapping ErrForbiddenURL) schemes other than https,
// and http unless allowPrivate; opaque URLs; user info; an empty host. It
// rejects (wrapping ErrForbiddenAddress) hosts whose last label is a number
// but which are not canonical IP addresses (2130706433, 0x7f.1, 127.1),
// which some resolvers read as IPv4 addresses, and, unless allowPrivate,
// literal special-purpose addresses, zones, and localhost names. The dialer
// checks the resolved address again; CheckURL only fails early and clearly.
func CheckURL(u *url.URL, allowPrivate bool) error {
	if u == nil {
		return fmt.Errorf("%w: no URL", ErrForbiddenURL)
	}
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "https", "http":
	case "":
		return fmt.Errorf("%w: no scheme", ErrForbiddenURL)
	default:
		return fmt.Errorf("%w: scheme %s", ErrForbiddenURL, clip(scheme))
	}
	if u.Opaque != "" {
		return fmt.Errorf("%w: opaque URL", ErrForbiddenURL)
	}
	if u.User != nil {
		return fmt.Errorf("%w: user info", ErrForbiddenURL)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: no host", ErrForbiddenURL)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil && isNumericHost(host) {
		return fmt.Errorf("%w: %s is not a canonical IP address", ErrForbiddenAddress, clip(host))
	}
	if allowPrivate {
		return nil
	}
	if err == nil && (addr.Zone() != "" || isForbidden(addr)) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, clip(host))
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, clip(host))
	}
	if scheme == "http" {
		return fmt.Errorf("%w: scheme http", ErrForbiddenURL)
	}
	return nil
}

// isNumericHost reports whether the last label of host is a decimal or
// hexadecimal number, as in the WHATWG URL standard's "ends in a number":
// such a host is an IPv4 address to inet_aton, never a DNS name.
func isNumericHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	digits := "0123456789"
	if l := strings.ToLower(last); strings.HasPrefix(l, "0x") {
		last, digits = l[2:], "0123456789abcdef"
	}
	for _, c := range last {
		if !strings.ContainsRune(digits, c) {
			return false
		}
	}
	return true
}
