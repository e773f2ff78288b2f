package signature

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// cavageSig describes a draft-cavage signature that a test peer writes.
type cavageSig struct {
	algorithm string // written when non-empty
	headers   string // the headers parameter
	created   string // written when non-empty
	expires   string
	sep       string // between parameters; "," when empty
}

// sign signs r by hand with key, the way a peer would, and sets the
// Signature header.
func (c cavageSig) sign(t *testing.T, r *http.Request, key *rsa.PrivateKey) {
	t.Helper()
	p := &cavageParams{headers: strings.Fields(c.headers), created: c.created, expires: c.expires}
	base, err := cavageSigningString(r, p)
	if err != nil {
		t.Fatalf("cavageSigningString: %v", err)
	}
	h := sha256.Sum256([]byte(base))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Signature", c.header(base64.StdEncoding.EncodeToString(sig)))
}

func (c cavageSig) header(sig string) string {
	parts := []string{`keyId="https://remote.example/users/alice#main-key"`}
	if c.algorithm != "" {
		parts = append(parts, `algorithm="`+c.algorithm+`"`)
	}
	if c.created != "" {
		parts = append(parts, "created="+c.created)
	}
	if c.expires != "" {
		parts = append(parts, "expires="+c.expires)
	}
	parts = append(parts, `headers="`+c.headers+`"`, `signature="`+sig+`"`)
	sep := c.sep
	if sep == "" {
		sep = ","
	}
	return strings.Join(parts, sep)
}

func digestOf(body []byte) string {
	s := sha256.Sum256(body)
	return "SHA-256=" + base64.StdEncoding.EncodeToString(s[:])
}

func digest512Of(body []byte) string {
	s := sha512.Sum512(body)
	return "SHA-512=" + base64.StdEncoding.EncodeToString(s[:])
}

// TestParseHostile follows the SIG rows of SECURITY.md §2.1 and the
// behaviour of real peers. Every case builds a POST to our inbox as the
// server sees it, lets a peer sign it, changes it, then runs Parse and
// Verify.
func TestParseHostile(t *testing.T) {
	key := readPrivateKey(t, "rfc9421", "keys", "test-key-rsa.private.pem").(*rsa.PrivateKey)
	wrongKey := readPublicKey(t, "rfc9421", "keys", "test-key-rsa-pss.public.pem")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"Create","object":{"type":"Note","content":"tomatoes"}}`)
	mastodon := cavageSig{algorithm: "rsa-sha256", headers: "(request-target) host date digest content-type"}
	hs2019 := cavageSig{algorithm: "hs2019", headers: "(request-target) (created) (expires) host digest",
		created: itoa(now.Add(-time.Minute).Unix()), expires: itoa(now.Add(4 * time.Minute).Unix())}
	with := func(c cavageSig, f func(*cavageSig)) cavageSig { f(&c); return c }

	tests := []struct {
		name        string
		path        string                // request path; /inbox when empty
		before      func(r *http.Request) // before signing
		sig         *cavageSig            // nil: not signed
		after       func(r *http.Request) // after signing
		body        func(b []byte) []byte // the body the server reads
		verifyBy    crypto.PublicKey      // nil: the signer's public key
		want        string                // "" means accepted and verified
		wantMissing bool
	}{
		{name: "Mastodon POST", sig: &mastodon},
		{name: "hs2019 algorithm", sig: ptr(with(mastodon, func(c *cavageSig) { c.algorithm = "hs2019" }))},
		{name: "no algorithm parameter", sig: ptr(with(mastodon, func(c *cavageSig) { c.algorithm = "" }))},
		{name: "spaces after commas", sig: ptr(with(mastodon, func(c *cavageSig) { c.sep = ", " }))},
		{name: "Authorization Signature header", sig: &mastodon, after: func(r *http.Request) {
			r.Header.Set("Authorization", "Signature "+r.Header.Get("Signature"))
			r.Header.Del("Signature")
		}},
		{name: "hs2019 with created and expires instead of date", sig: &hs2019, after: func(r *http.Request) { r.Header.Del("Date") }},

		{name: "SIG-01 unsigned POST", wantMissing: true, want: "no signature"},
		{name: "SIG-01 bearer token only", after: func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") }, wantMissing: true, want: "no signature"},
		{name: "SIG-02 hmac-sha256", sig: ptr(with(mastodon, func(c *cavageSig) { c.algorithm = "hmac-sha256" })), want: "unsupported algorithm"},
		{name: "SIG-02 rsa-sha1", sig: ptr(with(mastodon, func(c *cavageSig) { c.algorithm = "rsa-sha1" })), want: "unsupported algorithm"},
		{name: "SIG-02 unknown algorithm", sig: ptr(with(mastodon, func(c *cavageSig) { c.algorithm = "rot13" })), want: "unsupported algorithm"},
		{name: "SIG-03 only date signed", sig: ptr(with(mastodon, func(c *cavageSig) { c.headers = "date" })), want: "(request-target) not signed"},
		{name: "SIG-03 host not signed", sig: ptr(with(mastodon, func(c *cavageSig) { c.headers = "(request-target) date digest" })), want: "host not signed"},
		{name: "SIG-04 digest not signed but present", sig: ptr(with(mastodon, func(c *cavageSig) { c.headers = "(request-target) host date content-type" })), want: "digest not signed"},
		{name: "SIG-04 digest not signed and absent", sig: ptr(with(mastodon, func(c *cavageSig) { c.headers = "(request-target) host date" })),
			after: func(r *http.Request) { r.Header.Del("Digest") }, want: "digest not signed"},
		{name: "SIG-04 empty POST without digest", sig: ptr(with(mastodon, func(c *cavageSig) { c.headers = "(request-target) host date" })),
			body: func([]byte) []byte { return nil }, want: "digest not signed"},
		{name: "SIG-05 body changed by one byte after signing", sig: &mastodon,
			body: func(b []byte) []byte { return bytes.Replace(b, []byte("tomatoes"), []byte("potatoes"), 1) }, want: "digest does not match body"},
		{name: "SIG-06 lower-case sha-256", before: func(r *http.Request) {
			r.Header.Set("Digest", "sha-256="+strings.TrimPrefix(digestOf(body), "SHA-256="))
		}, sig: &mastodon},
		{name: "SIG-06 SHA-512 and SHA-256 both right", before: func(r *http.Request) {
			r.Header.Set("Digest", digest512Of(body)+","+digestOf(body))
		}, sig: &mastodon},
		{name: "SIG-06 wrong SHA-512 beside a right SHA-256", before: func(r *http.Request) {
			r.Header.Set("Digest", digest512Of([]byte("other"))+","+digestOf(body))
		}, sig: &mastodon, want: "digest does not match body"},
		{name: "SIG-06 MD5 beside a right SHA-256", before: func(r *http.Request) {
			r.Header.Set("Digest", "MD5=Sd/dVLAcvNLSq16eXua5uQ==, "+digestOf(body))
		}, sig: &mastodon},
		{name: "SIG-06 MD5 only", before: func(r *http.Request) {
			r.Header.Set("Digest", "MD5=Sd/dVLAcvNLSq16eXua5uQ==")
		}, sig: &mastodon, want: "no SHA-256 or SHA-512 digest"},
		{name: "SIG-06 Content-Digest sha-256", before: func(r *http.Request) {
			r.Header.Del("Digest")
			r.Header.Set("Content-Digest", "sha-256=:"+strings.TrimPrefix(digestOf(body), "SHA-256=")+":")
		}, sig: ptr(with(mastodon, func(c *cavageSig) { c.headers = "(request-target) host date content-digest" }))},
		{name: "SIG-06 Content-Digest md5 only", before: func(r *http.Request) {
			r.Header.Set("Content-Digest", "md5=:Sd/dVLAcvNLSq16eXua5uQ==:")
		}, sig: ptr(with(mastodon, func(c *cavageSig) { c.headers = "(request-target) host date content-digest" })), want: "no sha-256 or sha-512 content-digest"},
		{name: "SIG-06 Digest not base64", before: func(r *http.Request) { r.Header.Set("Digest", "SHA-256=***") }, sig: &mastodon, want: "malformed Digest"},
		{name: "SIG-07 odd whitespace in the JSON body is hashed as sent", before: func(r *http.Request) {
			r.Header.Set("Digest", digestOf(oddBody))
		}, sig: &mastodon, body: func([]byte) []byte { return oddBody }},
		{name: "SIG-07 re-serialised JSON body", before: func(r *http.Request) {
			r.Header.Set("Digest", digestOf(oddBody))
		}, sig: &mastodon, body: func([]byte) []byte { return []byte(`{"type":"Create","object":"x"}`) }, want: "digest does not match body"},
		{name: "SIG-08a Date 12h1m old", before: func(r *http.Request) {
			r.Header.Set("Date", now.Add(-12*time.Hour-time.Minute).Format(http.TimeFormat))
		}, sig: &mastodon, want: "date too old"},
		{name: "SIG-08a Date 2h in the future", before: func(r *http.Request) {
			r.Header.Set("Date", now.Add(2*time.Hour).Format(http.TimeFormat))
		}, sig: &mastodon, want: "date in the future"},
		{name: "SIG-08a Date missing", sig: &mastodon, after: func(r *http.Request) { r.Header.Del("Date") }, want: "missing Date header"},
		{name: "SIG-08a Date not a date", before: func(r *http.Request) { r.Header.Set("Date", "yesterday") }, sig: &mastodon, want: "malformed Date header"},
		{name: "SIG-08a Date present but not signed", sig: ptr(with(mastodon, func(c *cavageSig) { c.headers = "(request-target) host digest" })), want: "date not signed"},
		{name: "SIG-08b hs2019 whose expires has passed", sig: ptr(with(hs2019, func(c *cavageSig) {
			c.created = itoa(now.Add(-10 * time.Minute).Unix())
			c.expires = itoa(now.Add(-time.Minute).Unix())
		})), want: "signature expired"},
		{name: "SIG-08b hs2019 created 2h in the future", sig: ptr(with(hs2019, func(c *cavageSig) {
			c.created = itoa(now.Add(2 * time.Hour).Unix())
		})), want: "created in the future"},
		{name: "SIG-08b (created) with rsa-sha256", sig: ptr(with(hs2019, func(c *cavageSig) { c.algorithm = "rsa-sha256" })), want: "need algorithm hs2019"},
		{name: "SIG-10 signed host other.example replayed to us", before: func(r *http.Request) { r.Host = "other.example" }, sig: &mastodon,
			want: `signed host "other.example" is not "coppice.example"`},
		{name: "SIG-10 signed host other.example with our Host line", before: func(r *http.Request) { r.Host = "other.example" }, sig: &mastodon,
			after: func(r *http.Request) { r.Host = "coppice.example" }, want: "signature does not verify"},
		{name: "SIG-11 signed for /users/x/inbox, sent to /inbox", path: "/users/x/inbox", sig: &mastodon,
			after: func(r *http.Request) { r.URL.Path = "/inbox" }, want: "signature does not verify"},
		{name: "SIG-11 query added after signing", sig: &mastodon,
			after: func(r *http.Request) { r.URL.RawQuery = "x=1" }, want: "signature does not verify"},
		{name: "SIG-16 64 KB Signature header", sig: &mastodon, after: func(r *http.Request) {
			r.Header.Set("Signature", r.Header.Get("Signature")+strings.Repeat("A", 64<<10))
		}, want: "Signature header too large"},
		{name: "SIG-16 64 KB Authorization header", sig: &mastodon, after: func(r *http.Request) {
			r.Header.Set("Authorization", "Signature "+strings.Repeat("A", 64<<10))
			r.Header.Del("Signature")
		}, want: "Authorization header too large"},
		{name: "SIG-16 duplicated keyId", sig: &mastodon, after: func(r *http.Request) {
			r.Header.Set("Signature", `keyId="https://evil.example/k",`+r.Header.Get("Signature"))
		}, want: "duplicate parameter"},
		{name: "SIG-16 duplicated headers", sig: &mastodon, after: func(r *http.Request) {
			r.Header.Set("Signature", `headers="date",`+r.Header.Get("Signature"))
		}, want: "duplicate parameter"},
		{name: "SIG-16 signature not base64", after: func(r *http.Request) {
			r.Header.Set("Signature", mastodon.header("%%%not-base64%%%"))
		}, want: "signature is not base64"},
		{name: "SIG-16 empty headers", after: func(r *http.Request) {
			r.Header.Set("Signature", with(mastodon, func(c *cavageSig) { c.headers = "" }).header("AAAA"))
		}, want: "empty headers parameter"},
		{name: "SIG-16 two Signature headers", sig: &mastodon, after: func(r *http.Request) {
			r.Header.Add("Signature", r.Header.Get("Signature"))
		}, want: "more than one Signature header"},
		{name: "SIG-16 garbage", after: func(r *http.Request) { r.Header.Set("Signature", "\x00\xff,,==\"") }, want: "malformed signature"},
		{name: "SIG-16 signed header missing", sig: ptr(with(mastodon, func(c *cavageSig) { c.headers += " x-missing" })),
			after: func(r *http.Request) { r.Header.Del("X-Missing") }, before: func(r *http.Request) { r.Header.Set("X-Missing", "1") }, want: `signed header "x-missing" missing`},
		{name: "SIG-16 Signature header signed", after: func(r *http.Request) {
			r.Header.Set("Signature", with(mastodon, func(c *cavageSig) { c.headers += " signature" }).header("AAAA"))
		}, want: "signature header cannot be signed"},
		{name: "wrong key", sig: &mastodon, verifyBy: wrongKey, want: "signature does not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "/inbox"
			}
			r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			r.Host = "coppice.example"
			r.Header.Set("Content-Type", "application/activity+json")
			r.Header.Set("Date", now.Add(-time.Minute).Format(http.TimeFormat))
			r.Header.Set("Digest", digestOf(body))
			if tt.before != nil {
				tt.before(r)
			}
			if tt.sig != nil {
				tt.sig.sign(t, r, key)
			}
			if tt.after != nil {
				tt.after(r)
			}
			got := body
			if tt.body != nil {
				got = tt.body(body)
			}
			s, err := Parse(r, got, Options{Now: fixedClock(now), Host: "coppice.example"})
			if err == nil {
				pub := tt.verifyBy
				if pub == nil {
					pub = &key.PublicKey
				}
				err = s.Verify(pub)
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Parse and Verify = %v, want nil", err)
				}
				return
			}
			wantReject(t, "Parse and Verify", err, tt.want)
			if got := err.(*Error).Missing; got != tt.wantMissing {
				t.Errorf("Missing = %v, want %v", got, tt.wantMissing)
			}
		})
	}
}

// oddBody is JSON as a peer might send it, with whitespace a re-encoder
// would drop (SIG-07).
var oddBody = []byte("{ \"type\" :\"Create\",\n\t\"object\":  \"x\" }\n")

func ptr[T any](v T) *T { return &v }

func TestParseOptions(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/users/alice", nil)
	if _, err := Parse(r, nil, Options{}); err == nil {
		t.Errorf("Parse without Options.Now = nil, want an error")
	}
}
