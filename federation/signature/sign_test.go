package signature

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// receive sends r through the HTTP/1.1 wire format and returns the request
// and body as our server would see them.
func receive(t testing.TB, r *http.Request, body []byte) (*http.Request, []byte) {
	t.Helper()
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	var wire bytes.Buffer
	if err := r.Write(&wire); err != nil {
		t.Fatalf("write request: %v", err)
	}
	in, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		t.Fatalf("read request: %v", err)
	}
	got, err := io.ReadAll(in.Body)
	if err != nil {
		t.Fatal(err)
	}
	return in, got
}

func TestSignRoundTrip(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const keyID = "https://coppice.example/c/gardening#main-key"
	tests := []struct {
		name        string
		method, url string
		body        []byte
		wantHeaders []string
	}{
		{
			name:   "POST of an activity to a shared inbox",
			method: http.MethodPost, url: "https://remote.example/inbox",
			body:        []byte(`{"type":"Announce","object":"tomatoes"}`),
			wantHeaders: []string{"(request-target)", "host", "date", "digest", "content-type"},
		},
		{
			name:   "GET of an actor by the instance actor",
			method: http.MethodGet, url: "https://remote.example/users/alice?page=1",
			wantHeaders: []string{"(request-target)", "host", "date"},
		},
		{
			name:   "POST to a path with escaped characters and a port",
			method: http.MethodPost, url: "https://remote.example:8443/users/a%2Fb/inbox",
			body:        []byte(`{}`),
			wantHeaders: []string{"(request-target)", "host", "date", "digest", "content-type"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(tt.method, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != nil {
				r.Header.Set("Content-Type", "application/activity+json")
			}
			if err := Sign(r, tt.body, keyID, key, now); err != nil {
				t.Fatalf("Sign = %v, want nil", err)
			}
			sig := r.Header.Get("Signature")
			// Mastodon writes no spaces between parameters, and some peers
			// reject algorithm="hs2019".
			wantPrefix := `keyId="` + keyID + `",algorithm="rsa-sha256",headers="` + strings.Join(tt.wantHeaders, " ") + `",signature="`
			if !strings.HasPrefix(sig, wantPrefix) {
				t.Errorf("Signature = %q, want prefix %q", sig, wantPrefix)
			}
			if got, want := r.Header.Get("Date"), "Sun, 01 Mar 2026 12:00:00 GMT"; got != want {
				t.Errorf("Date = %q, want %q", got, want)
			}
			if tt.body == nil && r.Header.Get("Digest") != "" {
				t.Errorf("Digest = %q on a GET, want none", r.Header.Get("Digest"))
			}

			in, body := receive(t, r, tt.body)
			s, err := Parse(in, body, Options{Now: fixedClock(now.Add(time.Minute)), Host: r.URL.Host})
			if err != nil {
				t.Fatalf("Parse = %v, want nil", err)
			}
			if s.KeyID() != keyID || s.Scheme() != SchemeCavage || !slices.Equal(s.Headers(), tt.wantHeaders) {
				t.Errorf("Parse = %q, %q, %q, want %q, %q, %q", s.KeyID(), s.Scheme(), s.Headers(), keyID, SchemeCavage, tt.wantHeaders)
			}
			if err := s.Verify(&key.PublicKey); err != nil {
				t.Errorf("Verify with go-fed/httpsig = %v, want nil", err)
			}
			// The signing string built here must agree with go-fed's.
			s.goFed = nil
			if err := s.Verify(&key.PublicKey); err != nil {
				t.Errorf("Verify by hand = %v, want nil", err)
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	key := readPrivateKey(t, "rfc9421", "keys", "test-key-rsa.private.pem").(*rsa.PrivateKey)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		setup func(r *http.Request)
		key   *rsa.PrivateKey
		keyID string
		body  []byte
	}{
		{name: "POST without Content-Type", body: []byte("{}"), key: key, keyID: "k"},
		{name: "Digest already set", setup: func(r *http.Request) {
			r.Header.Set("Content-Type", "application/activity+json")
			r.Header.Set("Digest", "SHA-256=x")
		}, body: []byte("{}"), key: key, keyID: "k"},
		{name: "Signature already set", setup: func(r *http.Request) { r.Header.Set("Signature", "x") }, key: key, keyID: "k"},
		{name: "Host header differs from the URL", setup: func(r *http.Request) { r.Header.Set("Host", "other.example") }, key: key, keyID: "k"},
		{name: "no key", keyID: "k"},
		{name: "key id with a quote", key: key, keyID: `a"b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodPost, "https://remote.example/inbox", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(r)
			}
			if err := Sign(r, tt.body, tt.keyID, tt.key, now); err == nil {
				t.Errorf("Sign = nil, want an error")
			}
		})
	}
}

func TestVerifyKeyMismatch(t *testing.T) {
	key := readPrivateKey(t, "rfc9421", "keys", "test-key-rsa.private.pem").(*rsa.PrivateKey)
	other := readPublicKey(t, "rfc9421", "keys", "test-key-rsa-pss.public.pem")
	edPub := readPublicKey(t, "rfc9421", "keys", "test-key-ed25519.public.pem")
	ecPub := readPublicKey(t, "rfc9421", "keys", "test-key-ecc-p256.public.pem")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r, err := http.NewRequest(http.MethodGet, "https://remote.example/users/alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Sign(r, nil, "k", key, now); err != nil {
		t.Fatal(err)
	}
	in, body := receive(t, r, nil)
	s, err := Parse(in, body, Options{Now: fixedClock(now)})
	if err != nil {
		t.Fatalf("Parse = %v, want nil", err)
	}
	tests := []struct {
		name string
		pub  any
		want string
	}{
		{"another RSA key", other, "signature does not verify"},
		{"an Ed25519 key for rsa-sha256", edPub, "does not match the key"},
		{"an ECDSA key for rsa-sha256", ecPub, "does not match the key"},
		{"a short Ed25519 key for rsa-sha256", ed25519.PublicKey{1, 2, 3}, "does not match the key"},
		{"no key", nil, "unsupported key type"},
		{"a key of an unknown type", "secret", "unsupported key type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantReject(t, "Verify", s.Verify(tt.pub), tt.want)
		})
	}
	t.Run("a short Ed25519 key for ed25519", func(t *testing.T) {
		// ed25519.Verify panics on a key of the wrong length.
		if err := verifyWith(ed25519.PublicKey{1, 2, 3}, algEd25519, []byte("x"), make([]byte, 64)); !errors.Is(err, errKeyMismatch) {
			t.Errorf("verifyWith = %v, want %v", err, errKeyMismatch)
		}
	})
}
