package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/coppice-dev/coppice/internal/server"
)

// TestRAT09ForwardedForOnlyFromTrustedProxies (issue 12, item 5): the
// client address is taken from X-Forwarded-For only when the peer is a
// trusted proxy, and then it is the rightmost address that is not a
// trusted proxy itself; a client cannot choose its own address.
func TestRAT09ForwardedForOnlyFromTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name, remote string
		forwarded    []string
		want         string
	}{
		{"a direct client", "203.0.113.5:4000", nil, "203.0.113.5:4000"},
		{"a direct client claiming another address", "203.0.113.5:4000", []string{"198.51.100.7"}, "203.0.113.5:4000"},
		{"a client through the proxy", "10.0.0.2:5000", []string{"198.51.100.7"}, "198.51.100.7:0"},
		{"a client through two proxies", "10.0.0.2:5000", []string{"198.51.100.7, 10.0.0.9"}, "198.51.100.7:0"},
		{"a spoofed entry left of the real one", "10.0.0.2:5000", []string{"1.2.3.4, 198.51.100.7"}, "198.51.100.7:0"},
		{"entries over several header lines", "10.0.0.2:5000", []string{"1.2.3.4", "198.51.100.7"}, "198.51.100.7:0"},
		{"garbage right of the client", "10.0.0.2:5000", []string{"198.51.100.7, nonsense"}, "10.0.0.2:5000"},
		{"the proxy without the header", "10.0.0.2:5000", nil, "10.0.0.2:5000"},
		{"only proxies", "10.0.0.2:5000", []string{"10.0.0.3"}, "10.0.0.3:0"},
		{"an IPv6 client through an IPv6 proxy", "[fd00::1]:443", []string{"2001:db8::5"}, "[2001:db8::5]:0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			h := server.ClientAddress(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.RemoteAddr }), trusted)
			r := httptest.NewRequest(http.MethodPost, "/inbox", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.forwarded {
				r.Header.Add("X-Forwarded-For", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != tc.want {
				t.Errorf("client of %s with X-Forwarded-For %q = %s, want %s", tc.remote, tc.forwarded, got, tc.want)
			}
		})
	}
}
