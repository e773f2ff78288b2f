package fetch

import (
	"errors"
	"net/netip"
	"net/url"
	"testing"
)

func TestIsForbidden(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"10.0.0.1", true},
		{"100.64.0.1", true},
		{"100.127.255.255", true},
		{"127.0.0.1", true},
		{"127.255.255.254", true},
		{"169.254.169.254", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.0.0.8", true},
		{"192.0.2.1", true},
		{"192.88.99.1", true},
		{"192.168.1.1", true},
		{"198.18.0.1", true},
		{"198.19.255.255", true},
		{"198.51.100.7", true},
		{"203.0.113.9", true},
		{"224.0.0.1", true},
		{"239.255.255.250", true},
		{"240.0.0.1", true},
		{"255.255.255.255", true},
		{"::", true},
		{"::1", true},
		{"::127.0.0.1", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"64:ff9b::7f00:1", true},
		{"64:ff9b::808:808", true},
		{"100::1", true},
		{"2001::1", true},
		{"2001:1ff::1", true},
		{"2001:db8::1", true},
		{"2002:7f00:1::1", true},
		{"2002:a00:1::1", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fec0::1", true},
		{"ff02::1", true},
		{"1.1.1.1", false},
		{"8.8.8.8", false},
		{"100.63.255.255", false},
		{"100.128.0.0", false},
		{"172.15.255.255", false},
		{"172.32.0.1", false},
		{"192.0.1.1", false},
		{"198.20.0.1", false},
		{"223.255.255.255", false},
		{"::ffff:8.8.8.8", false},
		{"2001:200::1", false},
		{"2001:4860:4860::8888", false},
		{"2002:808:808::1", false},
		{"2606:4700:4700::1111", false},
	}
	for _, tt := range tests {
		name := "public " + tt.addr
		if tt.want {
			name = "special-purpose " + tt.addr
		}
		t.Run(name, func(t *testing.T) {
			a := netip.MustParseAddr(tt.addr)
			if got := isForbidden(a); got != tt.want {
				t.Errorf("isForbidden(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	t.Run("the zero address", func(t *testing.T) {
		if !isForbidden(netip.Addr{}) {
			t.Errorf("isForbidden(netip.Addr{}) = false, want true")
		}
	})
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		name         string
		url          string
		allowPrivate bool
		want         error
	}{
		{"https URL with a public name", "https://a.example/notes/1", false, nil},
		{"https URL with a port", "https://a.example:8443/u", false, nil},
		{"public IPv4 literal", "https://8.8.8.8/", false, nil},
		{"public IPv6 literal", "https://[2606:4700::1111]/", false, nil},
		{"loopback http URL with AllowPrivate", "http://127.0.0.1:8080/", true, nil},
		{"localhost with AllowPrivate", "http://localhost:8080/", true, nil},
		{"FET-04 file URL", "file:///etc/passwd", false, ErrForbiddenURL},
		{"FET-04 file URL with AllowPrivate", "file:///etc/passwd", true, ErrForbiddenURL},
		{"FET-04 gopher URL", "gopher://a.example:70/_x", true, ErrForbiddenURL},
		{"FET-04 data URL", "data:application/activity+json,{}", true, ErrForbiddenURL},
		{"FET-04 ftp URL", "ftp://a.example/x", true, ErrForbiddenURL},
		{"javascript URL", "javascript:alert(1)", true, ErrForbiddenURL},
		{"relative URL", "/notes/1", true, ErrForbiddenURL},
		{"FET-03 http URL without AllowPrivate", "http://a.example/", false, ErrForbiddenURL},
		{"opaque https URL", "https:a.example", true, ErrForbiddenURL},
		{"user info", "https://user:pass@a.example/", false, ErrForbiddenURL},
		{"ORI-07 port-like user info", "https://a.example:443@evil.example/u", false, ErrForbiddenURL},
		{"empty host", "https:///notes/1", false, ErrForbiddenURL},
		{"FET-01 loopback", "https://127.0.0.1/", false, ErrForbiddenAddress},
		{"FET-01 IPv6 loopback", "https://[::1]/", false, ErrForbiddenAddress},
		{"FET-01 unspecified", "https://0.0.0.0/", false, ErrForbiddenAddress},
		{"FET-01 private 10/8", "https://10.0.0.1/", false, ErrForbiddenAddress},
		{"FET-01 private 172.16/12", "https://172.16.0.1/", false, ErrForbiddenAddress},
		{"FET-01 private 192.168/16", "https://192.168.1.1/", false, ErrForbiddenAddress},
		{"FET-01 cloud metadata", "https://169.254.169.254/latest/meta-data/", false, ErrForbiddenAddress},
		{"FET-01 shared address space", "https://100.64.0.1/", false, ErrForbiddenAddress},
		{"FET-01 unique local", "https://[fc00::1]/", false, ErrForbiddenAddress},
		{"FET-01 link-local", "https://[fe80::1]/", false, ErrForbiddenAddress},
		{"FET-01 link-local with a zone", "https://[fe80::1%25eth0]/", false, ErrForbiddenAddress},
		{"FET-01 IPv4-mapped loopback", "https://[::ffff:127.0.0.1]/", false, ErrForbiddenAddress},
		{"FET-01 trailing dot after an address", "https://10.0.0.1./", false, ErrForbiddenAddress},
		{"FET-01 decimal IPv4", "http://2130706433/", false, ErrForbiddenAddress},
		{"FET-01 decimal IPv4 with AllowPrivate", "http://2130706433/", true, ErrForbiddenAddress},
		{"FET-01 hexadecimal IPv4", "https://0x7f000001/", false, ErrForbiddenAddress},
		{"FET-01 short IPv4", "https://127.1/", false, ErrForbiddenAddress},
		{"FET-01 octal IPv4", "https://0177.0.0.1/", false, ErrForbiddenAddress},
		{"FET-01 localhost", "https://localhost/", false, ErrForbiddenAddress},
		{"FET-01 localhost in capitals with a dot", "https://LOCALHOST./", false, ErrForbiddenAddress},
		{"FET-01 subdomain of localhost", "https://a.localhost/", false, ErrForbiddenAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatalf("url.Parse(%q): %v", tt.url, err)
			}
			err = CheckURL(u, tt.allowPrivate)
			if tt.want == nil && err != nil || !errors.Is(err, tt.want) {
				t.Errorf("CheckURL(%q, %v) = %v, want %v", tt.url, tt.allowPrivate, err, tt.want)
			}
		})
	}
	t.Run("nil URL", func(t *testing.T) {
		if err := CheckURL(nil, true); !errors.Is(err, ErrForbiddenURL) {
			t.Errorf("CheckURL(nil) = %v, want %v", err, ErrForbiddenURL)
		}
	})
}
