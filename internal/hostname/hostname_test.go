package hostname

import (
	"errors"
	"net/url"
	"testing"
)

// TestFromURLSpellingsOfOneHost: every spelling that reaches gts.test
// normalizes to "gts.test" (ORI-10, issue 12 item 2).
func TestFromURLSpellingsOfOneHost(t *testing.T) {
	for _, raw := range []string{
		"http://gts.test/u", "https://gts.test/u", "http://GTS.Test/u", "http://gts.test:80/u",
		"https://gts.test:443/u", "https://gts.test.:443/u", "http://gts.test:0080/u",
		"https://ｇｔｓ.test/u", // full-width letters, mapped by UTS 46 as a client does
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("url.Parse(%q): %v", raw, err)
		}
		if got, err := FromURL(u); err != nil || got != "gts.test" {
			t.Errorf("FromURL(%q) = %q, %v, want gts.test", raw, got, err)
		}
	}
}

func TestFromURLKeepsWhatDiffers(t *testing.T) {
	for raw, want := range map[string]string{
		"https://gts.test:80/u":        "gts.test:80",
		"http://gts.test:443/u":        "gts.test:443",
		"http://127.0.0.12:8080/u":     "127.0.0.12:8080",
		"http://[::ffff:127.0.0.1]/u":  "127.0.0.1",
		"http://[0:0:0:0:0:0:0:1]:8/u": "[::1]:8",
		"https://bücher.example/u":     "xn--bcher-kva.example",
		"https://a.b.gts.test/u":       "a.b.gts.test",
		"https://mastodon.so/cial/u":   "mastodon.so",
		"https://\u212Aevil.example/":  "kevil.example", // Kelvin sign: IDNA maps it, as the resolver will
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("url.Parse(%q): %v", raw, err)
		}
		if got, err := FromURL(u); err != nil || got != want {
			t.Errorf("FromURL(%q) = %q, %v, want %q", raw, got, err, want)
		}
	}
}

func TestInvalidHosts(t *testing.T) {
	for _, raw := range []string{
		"http://2130706433/", "http://127.1/", "http://a..b/", "http://gts.test:0/", "http://gts.test:99999/",
		"http://[fe80::1%25eth0]/", "http:///x", "http://a b/",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			continue // refused even earlier
		}
		if got, err := FromURL(u); !errors.Is(err, ErrInvalid) {
			t.Errorf("FromURL(%q) = %q, %v, want ErrInvalid", raw, got, err)
		}
	}
}

func TestParseAdminInput(t *testing.T) {
	for in, want := range map[string]string{
		"gts.test":          "gts.test",
		" GTS.Test. ":       "gts.test",
		"gts.test:443":      "gts.test",
		"gts.test:80":       "gts.test",
		"gts.test:8443":     "gts.test:8443",
		"https://gts.test/": "gts.test",
		"127.0.0.12":        "127.0.0.12",
		"[::1]:8080":        "[::1]:8080",
	} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "gts.test/x", "@a@gts.test", "0.0.12", "a..b", "https://u@gts.test/"} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %q, want an error", in, got)
		}
	}
}

// TestRegistrable: subdomains share their registrable domain; a public
// suffix's registrants (github.io) are apart; addresses and names with no
// registrable part are their own.
func TestRegistrable(t *testing.T) {
	for host, want := range map[string]string{
		"evil.example":            "evil.example",
		"a.evil.example":          "evil.example",
		"x.y.z.evil.example:8443": "evil.example",
		"sub999.evil.example":     "evil.example",
		"mastodon.social":         "mastodon.social",
		"alice.github.io":         "alice.github.io",
		"bob.github.io":           "bob.github.io",
		"a.b.example.co.uk":       "example.co.uk",
		"xn--80ak6aa92e.com":      "xn--80ak6aa92e.com",
		"127.0.0.20:39233":        "127.0.0.20:39233",
		"127.0.0.21":              "127.0.0.21",
		"[2001:db8::1]:8443":      "[2001:db8::1]:8443",
		"localhost:8080":          "localhost:8080",
		"github.io":               "github.io",
		"com":                     "com",
	} {
		if got := Registrable(host); got != want {
			t.Errorf("Registrable(%q) = %q, want %q", host, got, want)
		}
	}
}
