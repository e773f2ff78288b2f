package server

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddress makes r.RemoteAddr the client's address when the request
// comes from one of the trusted reverse proxies (--trusted-proxy): the
// rightmost address of X-Forwarded-For that is not itself a trusted proxy.
// Behind a TLS proxy every client would otherwise have the proxy's
// address, and limits per address (the inbox's in-flight work, console
// login failures) would lump them together (RAT-09). X-Forwarded-For from
// any other peer is ignored: a client cannot choose its own address. With
// no trusted proxies h is returned as is.
func ClientAddress(h http.Handler, trusted []netip.Prefix) http.Handler {
	if len(trusted) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if client, ok := forwardedClient(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), trusted); ok {
			r = r.WithContext(r.Context()) // a shallow copy: the caller's request is not changed
			r.RemoteAddr = netip.AddrPortFrom(client, 0).String()
		}
		h.ServeHTTP(w, r)
	})
}

// forwardedClient returns the client named by X-Forwarded-For when the
// peer at remote is a trusted proxy, walking the list from the right (the
// proxies append) past trusted addresses. It stops at an entry that is not
// an address: the entries left of it were written by the client.
func forwardedClient(remote string, forwarded []string, trusted []netip.Prefix) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}, false
	}
	peer := ap.Addr().Unmap()
	if !isTrusted(peer, trusted) {
		return netip.Addr{}, false
	}
	var hops []string
	for _, v := range forwarded {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil || a.Zone() != "" {
			break
		}
		client = a.Unmap()
		if !isTrusted(client, trusted) {
			break
		}
	}
	return client, client != peer
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
