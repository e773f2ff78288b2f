package config

import (
	"slices"
	"testing"
)

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"127.0.0.1", []string{"127.0.0.1/32"}, false},
		{"10.1.2.3/8, ::1", []string{"10.0.0.0/8", "::1/128"}, false},
		{"fd00::/8,192.168.0.0/16", []string{"fd00::/8", "192.168.0.0/16"}, false},
		{"proxy.example", nil, true},
		{"10.0.0.0/33", nil, true},
		{"fe80::1%eth0", nil, true},
	}
	for _, tc := range tests {
		got, err := ParseTrustedProxies(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseTrustedProxies(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if !slices.Equal(s, tc.want) {
			t.Errorf("ParseTrustedProxies(%q) = %v, want %v", tc.in, s, tc.want)
		}
	}
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate of the defaults = %v, want nil", err)
	}
	c.TrustedProxy = "not a network"
	if err := c.Validate(); err == nil {
		t.Errorf("Validate with trusted-proxy %q = nil, want an error", c.TrustedProxy)
	}
}
