package signature

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The published vector: Key.Sign, signing C.2's request of
// draft-cavage-12 Appendix C with the draft's private key, writes the
// draft's signature (PKCS #1 v1.5 is deterministic), as Sign does.
func TestKeySignsCavageC2(t *testing.T) {
	priv := readPrivateKey(t, "cavage-12", "keys", "test.private.pem").(*rsa.PrivateKey)
	k, err := NewKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	var c cavageCase
	readCase(t, &c, "cavage-12", "c2-basic-test", "case.json")
	for name, sign := range map[string]func(*http.Request) error{
		"Key.Sign": func(r *http.Request) error { return k.Sign(r, nil, "Test", cavageVectorTime) },
		"Sign":     func(r *http.Request) error { return Sign(r, nil, "Test", priv, cavageVectorTime) },
	} {
		r, _ := readRequest(t, "cavage-12", "request.txt")
		if err := sign(r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := `keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",signature="` + c.Params.Signature + `"`
		if got := r.Header.Get("Signature"); got != want {
			t.Errorf("%s wrote\n%s\nwant\n%s", name, got, want)
		}
	}
}

// Key.Sign writes what Sign writes, header for header, and what it writes
// passes Parse and both verifications.
func TestKeySignsAsSign(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const keyID = "https://coppice.example/c/gardening#main-key"
	for _, tt := range []struct {
		method, url string
		body        []byte
	}{
		{http.MethodPost, "https://remote.example/inbox", []byte(`{"type":"Announce","object":"tomatoes"}`)},
		{http.MethodPost, "https://remote.example:8443/users/a%2Fb/inbox?x=1", []byte(`{}`)},
		{http.MethodGet, "https://remote.example/users/alice?page=1", nil},
	} {
		var headers [2]http.Header
		for i, sign := range []func(*http.Request) error{
			func(r *http.Request) error { return Sign(r, tt.body, keyID, priv, now) },
			func(r *http.Request) error { return k.Sign(r, tt.body, keyID, now) },
		} {
			r, err := http.NewRequest(tt.method, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != nil {
				r.Header.Set("Content-Type", "application/activity+json")
			}
			if err := sign(r); err != nil {
				t.Fatal(err)
			}
			headers[i] = r.Header
			in, body := receive(t, r, tt.body)
			s, err := Parse(in, body, Options{Now: fixedClock(now), Host: r.URL.Host})
			if err != nil {
				t.Fatalf("%s %s: Parse = %v", tt.method, tt.url, err)
			}
			if err := s.Verify(&priv.PublicKey); err != nil {
				t.Errorf("%s %s: Verify with go-fed/httpsig = %v", tt.method, tt.url, err)
			}
			s.goFed = nil
			if err := s.Verify(&priv.PublicKey); err != nil {
				t.Errorf("%s %s: Verify by hand = %v", tt.method, tt.url, err)
			}
		}
		for _, h := range []string{"Signature", "Digest", "Date", "Host", "Content-Type"} {
			if a, b := headers[0].Get(h), headers[1].Get(h); a != b {
				t.Errorf("%s %s: %s is %q from Sign, %q from Key.Sign", tt.method, tt.url, h, a, b)
			}
		}
		if !strings.Contains(headers[1].Get("Signature"), `algorithm="rsa-sha256"`) {
			t.Errorf("Key.Sign wrote %q", headers[1].Get("Signature"))
		}
	}
}

// Without OpenSSL, for a key it did not take or after it failed to sign,
// Key.Sign signs with crypto/rsa: the same headers, nothing left over from
// the failed attempt.
func TestKeySignsWithoutOpenSSL(t *testing.T) {
	priv := readPrivateKey(t, "rfc9421", "keys", "test-key-rsa.private.pem").(*rsa.PrivateKey)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"Announce"}`)
	post := func() *http.Request {
		r, err := http.NewRequest(http.MethodPost, "https://remote.example/inbox", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/activity+json")
		return r
	}
	want := post()
	if err := Sign(want, body, "k", priv, now); err != nil {
		t.Fatal(err)
	}
	k, err := NewKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if k.signDigest == nil {
		t.Fatal("OpenSSL did not take the RFC 9421 test key")
	}
	calls := 0
	failing := func([]byte) ([]byte, error) { calls++; return nil, errors.New("no provider") }
	for name, key := range map[string]*Key{
		"a key OpenSSL did not take": {priv: k.priv, pub: k.pub},
		"OpenSSL failing":            {priv: k.priv, pub: k.pub, signDigest: failing},
	} {
		r := post()
		if err := key.Sign(r, body, "k", now); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, h := range []string{"Signature", "Digest", "Date", "Host"} {
			if got := r.Header.Values(h); len(got) != 1 || got[0] != want.Header.Get(h) {
				t.Errorf("%s: %s = %q, want %q", name, h, got, want.Header.Get(h))
			}
		}
	}
	if calls != 1 {
		t.Errorf("the failing OpenSSL signer was called %d times, want 1", calls)
	}
}

func TestKeySignErrors(t *testing.T) {
	if _, err := NewKey(nil); err == nil {
		t.Error("NewKey(nil): no error")
	}
	k, err := NewKey(readPrivateKey(t, "rfc9421", "keys", "test-key-rsa.private.pem").(*rsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for name, r := range map[string]func() *http.Request{
		"POST without Content-Type": func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, "https://remote.example/inbox", nil)
			return r
		},
		"Signature already set": func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, "https://remote.example/inbox", nil)
			r.Header.Set("Signature", "x")
			return r
		},
	} {
		if err := k.Sign(r(), []byte("{}"), "k", now); err == nil {
			t.Errorf("%s: Key.Sign = nil, want an error", name)
		}
	}
	if err := k.Sign(&http.Request{Method: http.MethodGet, Header: http.Header{}}, nil, "k", now); err == nil {
		t.Error("no URL: Key.Sign = nil, want an error")
	}
}
