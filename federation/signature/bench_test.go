package signature

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkSign signs a delivery's POST with crypto/rsa (Sign) and with
// OpenSSL (Key.Sign, as the delivery worker does).
func BenchmarkSign(b *testing.B) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	key, err := NewKey(priv)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"type":"Announce","object":"https://coppice.example/t/1"}`)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const keyID = "https://coppice.example/c/g#main-key"
	for name, sign := range map[string]func(r *http.Request) error{
		"crypto-rsa": func(r *http.Request) error { return Sign(r, body, keyID, priv, now) },
		"openssl":    func(r *http.Request) error { return key.Sign(r, body, keyID, now) },
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r, err := http.NewRequest(http.MethodPost, "https://remote.example/inbox", nil)
				if err != nil {
					b.Fatal(err)
				}
				r.Header.Set("Content-Type", "application/activity+json")
				if err := sign(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseVerify(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"type":"Create","object":{"type":"Note","content":"tomatoes"}}`)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	out, err := http.NewRequest(http.MethodPost, "https://coppice.example/inbox", nil)
	if err != nil {
		b.Fatal(err)
	}
	out.Header.Set("Content-Type", "application/activity+json")
	if err := Sign(out, body, "https://remote.example/users/alice#main-key", key, now); err != nil {
		b.Fatal(err)
	}
	opt := Options{Now: fixedClock(now), Host: "coppice.example"}
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/inbox", bytes.NewReader(body))
		r.Host = "coppice.example"
		for k, v := range out.Header {
			if k != "Host" {
				r.Header[k] = v
			}
		}
		s, err := Parse(r, body, opt)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Verify(&key.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}
