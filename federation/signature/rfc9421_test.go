package signature

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/hmac"
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

// rfc9421Case is the part of an RFC 9421 case.json that the tests read.
type rfc9421Case struct {
	MessageFile    string `json:"message_file"`
	Label          string `json:"label"`
	Algorithm      string `json:"algorithm"`
	KeyID          string `json:"key_id"`
	SignatureInput string `json:"signature_input_header"`
	Signature      string `json:"signature_header"`
	SignatureB64   string `json:"signature_base64"`
}

// rfc9421VectorTime is just after created=1618884473 in the RFC's examples.
var rfc9421VectorTime = time.Unix(1618884473, 0).Add(time.Minute)

// vectorSigInput parses a case's Signature-Input value and returns the
// entry with the case's label.
func vectorSigInput(t *testing.T, c rfc9421Case) *sigInput {
	t.Helper()
	members, err := parseDictionary(c.SignatureInput)
	if err != nil {
		t.Fatalf("parseDictionary(%q) = %v", c.SignatureInput, err)
	}
	for _, m := range members {
		if m.key == c.Label {
			si, err := parseSigInput(m)
			if err != nil {
				t.Fatalf("parseSigInput(%q) = %v", c.Label, err)
			}
			return si
		}
	}
	t.Fatalf("label %q not in %q", c.Label, c.SignatureInput)
	return nil
}

// vectorMessage reads a case's message as a server would see it.
func vectorMessage(t *testing.T, dir, file string) *message {
	t.Helper()
	if strings.Contains(file, "response") {
		data := wireMessage(readTestdata(t, "rfc9421", dir, file))
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), nil)
		if err != nil {
			t.Fatal(err)
		}
		return &message{status: resp.StatusCode, header: resp.Header}
	}
	r, _ := readRequest(t, "rfc9421", dir, file)
	return requestMessage(r, "https")
}

func TestRFC9421Vectors(t *testing.T) {
	tests := []struct {
		name string
		dir  string
	}{
		{"B.2.1 minimal rsa-pss-sha512", "b2.1-minimal-rsa-pss-sha512"},
		{"B.2.2 selective components with @query-param", "b2.2-selective-rsa-pss-sha512"},
		{"B.2.3 full coverage rsa-pss-sha512", "b2.3-full-coverage-rsa-pss-sha512"},
		{"B.2.4 response ecdsa-p256-sha256", "b2.4-response-ecdsa-p256-sha256"},
		{"B.2.5 hmac-sha256", "b2.5-hmac-sha256"},
		{"B.2.6 ed25519", "b2.6-ed25519"},
		{"B.3 TLS-terminating proxy ecdsa-p256-sha256", "b3-tls-terminating-proxy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c rfc9421Case
			readCase(t, &c, "rfc9421", tt.dir, "case.json")
			si := vectorSigInput(t, c)
			got, err := signatureBase(vectorMessage(t, tt.dir, c.MessageFile), si)
			if err != nil {
				t.Fatalf("signatureBase: %v", err)
			}
			want := string(readTestdata(t, "rfc9421", tt.dir, "signature-base.txt"))
			if got != want {
				t.Fatalf("signature base:\ngot  %q\nwant %q", got, want)
			}
			sig, err := base64.StdEncoding.DecodeString(c.SignatureB64)
			if err != nil {
				t.Fatal(err)
			}
			if c.Algorithm == algHMACSHA256 {
				// We accept no shared-secret signatures, so HMAC is checked here
				// only to prove the signature base.
				secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(readTestdata(t, "rfc9421", "keys", "test-shared-secret.base64.txt"))))
				if err != nil {
					t.Fatal(err)
				}
				mac := hmac.New(sha256.New, secret)
				mac.Write([]byte(got))
				if !hmac.Equal(mac.Sum(nil), sig) {
					t.Errorf("hmac-sha256 over the signature base does not match the published signature")
				}
				return
			}
			pub := readPublicKey(t, "rfc9421", "keys", c.KeyID+".public.pem")
			if err := verifyWith(pub, c.Algorithm, []byte(got), sig); err != nil {
				t.Errorf("verifyWith(%s) = %v, want nil", c.Algorithm, err)
			}
			sig[0] ^= 1
			if err := verifyWith(pub, c.Algorithm, []byte(got), sig); err == nil {
				t.Errorf("verifyWith(%s) of a changed signature = nil, want an error", c.Algorithm)
			}
		})
	}
}

func TestParseRFC9421Vectors(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		want string // "" means Parse and Verify accept
	}{
		{"B.2.1 covers nothing", "b2.1-minimal-rsa-pss-sha512", "@method not covered"},
		{"B.2.2 lacks @method", "b2.2-selective-rsa-pss-sha512", "@method not covered"},
		{"B.2.3 full coverage is accepted", "b2.3-full-coverage-rsa-pss-sha512", ""},
		{"B.2.5 lacks @method", "b2.5-hmac-sha256", "@method not covered"},
		{"B.2.6 POST without content-digest", "b2.6-ed25519", "content-digest not covered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c rfc9421Case
			readCase(t, &c, "rfc9421", tt.dir, "case.json")
			r, body := readRequest(t, "rfc9421", "messages", "test-request.txt")
			r.Header.Set("Signature-Input", c.SignatureInput)
			r.Header.Set("Signature", c.Signature)
			s, err := Parse(r, body, Options{Now: fixedClock(rfc9421VectorTime), Host: "example.com"})
			if tt.want != "" {
				wantReject(t, "Parse", err, tt.want)
				return
			}
			if err != nil {
				t.Fatalf("Parse = %v, want nil", err)
			}
			if got, want := s.KeyID(), c.KeyID; got != want {
				t.Errorf("KeyID() = %q, want %q", got, want)
			}
			if got, want := s.Scheme(), SchemeRFC9421; got != want {
				t.Errorf("Scheme() = %q, want %q", got, want)
			}
			// No alg parameter: an RSA key is tried with rsa-v1_5-sha256, then
			// rsa-pss-sha512.
			if err := s.Verify(readPublicKey(t, "rfc9421", "keys", c.KeyID+".public.pem")); err != nil {
				t.Errorf("Verify = %v, want nil", err)
			}
			if err := s.Verify(readPublicKey(t, "rfc9421", "keys", "test-key-rsa.public.pem")); err == nil {
				t.Errorf("Verify with another RSA key = nil, want an error")
			}
		})
	}
}

func TestRFC9421Transformations(t *testing.T) {
	var c struct {
		rfc9421Case
		Messages []struct {
			File  string `json:"message_file"`
			Valid bool   `json:"expected_valid"`
		} `json:"messages"`
	}
	const dir = "b4-message-transformations"
	readCase(t, &c, "rfc9421", dir, "case.json")
	pub := readPublicKey(t, "rfc9421", "keys", "test-key-ed25519.public.pem")
	want := string(readTestdata(t, "rfc9421", dir, "signature-base.txt"))
	for _, m := range c.Messages {
		t.Run(m.File, func(t *testing.T) {
			r, body := readRequest(t, "rfc9421", dir, m.File)
			got, err := signatureBase(requestMessage(r, "https"), vectorSigInput(t, c.rfc9421Case))
			if err != nil {
				t.Fatalf("signatureBase: %v", err)
			}
			if m.Valid && got != want {
				t.Fatalf("signature base:\ngot  %q\nwant %q", got, want)
			}
			if !m.Valid && got == want {
				t.Fatalf("signature base of a changed message = %q, want a different base", got)
			}
			// Without Options.Host, the host is whatever the request says, so
			// message 4's change of host reaches Verify; its change to POST
			// without a Content-Digest is refused by Parse already.
			s, err := Parse(r, body, Options{Now: fixedClock(rfc9421VectorTime)})
			if err == nil {
				err = s.Verify(pub)
			}
			if m.Valid && err != nil {
				t.Errorf("Parse and Verify = %v, want nil", err)
			}
			if !m.Valid && err == nil {
				t.Errorf("Parse and Verify = nil, want an error")
			}
		})
	}
}

func TestRFC9421MultipleSignatures(t *testing.T) {
	var c struct {
		ClientSig rfc9421Case `json:"client_signature"`
		ProxySig  struct {
			rfc9421Case
			Params string `json:"signature_params"`
		} `json:"proxy_signature"`
		FinalInput string `json:"final_message_signature_input_header"`
		FinalSig   string `json:"final_message_signature_header"`
	}
	const dir = "s4.3-multiple-signatures"
	readCase(t, &c, "rfc9421", dir, "case.json")

	t.Run("client signature sig1 through Parse and Verify", func(t *testing.T) {
		r, body := readRequest(t, "rfc9421", dir, "client-request.txt")
		s, err := Parse(r, body, Options{Now: fixedClock(time.Unix(1618884475, 0)), Host: "example.com"})
		if err != nil {
			t.Fatalf("Parse = %v, want nil", err)
		}
		if err := s.Verify(readPublicKey(t, "rfc9421", "keys", "test-key-ecc-p256.public.pem")); err != nil {
			t.Errorf("Verify = %v, want nil", err)
		}
	})

	t.Run("proxy signature base and rsa-v1_5-sha256", func(t *testing.T) {
		r, _ := readRequest(t, "rfc9421", dir, "proxy-forwarded-request.txt")
		r.Header.Set("Signature-Input", c.FinalInput)
		r.Header.Set("Signature", c.FinalSig)
		c.ProxySig.SignatureInput = c.FinalInput
		got, err := signatureBase(requestMessage(r, "https"), vectorSigInput(t, c.ProxySig.rfc9421Case))
		if err != nil {
			t.Fatalf("signatureBase: %v", err)
		}
		if want := string(readTestdata(t, "rfc9421", dir, "signature-base-proxy_sig.txt")); got != want {
			t.Fatalf("signature base:\ngot  %q\nwant %q", got, want)
		}
	})

	t.Run("proxy signature alone through Parse and Verify", func(t *testing.T) {
		r, body := readRequest(t, "rfc9421", dir, "proxy-forwarded-request.txt")
		r.Header.Set("Signature-Input", "proxy_sig="+c.ProxySig.Params)
		r.Header.Set("Signature", "proxy_sig=:"+c.ProxySig.SignatureB64+":")
		opt := Options{Now: fixedClock(time.Unix(1618884500, 0)), Host: "origin.host.internal.example"}
		s, err := Parse(r, body, opt)
		if err != nil {
			t.Fatalf("Parse = %v, want nil", err)
		}
		if err := s.Verify(readPublicKey(t, "rfc9421", "keys", "test-key-rsa.public.pem")); err != nil {
			t.Errorf("Verify = %v, want nil", err)
		}
		opt.Now = fixedClock(time.Unix(1618884541, 0))
		_, err = Parse(r, body, opt)
		wantReject(t, "Parse after expires", err, "signature expired")
	})
}

// sign9421 signs r with RFC 9421: it sets Signature-Input to
// label=<input> and Signature to the signature over the base. When no base
// can be built from input (the hostile cases), the signature is a
// placeholder, for Parse must reject the request before any verification.
func sign9421(t *testing.T, r *http.Request, label, input string, key crypto.Signer, alg string) {
	t.Helper()
	r.Header.Add("Signature-Input", label+"="+input)
	members, err := parseDictionary(label + "=" + input)
	if err != nil {
		t.Fatalf("parseDictionary(%q) = %v", input, err)
	}
	si, err := parseSigInput(members[0])
	if err != nil {
		r.Header.Add("Signature", label+"=:AAAA:")
		return
	}
	base, err := signatureBase(requestMessage(r, "https"), si)
	if err != nil {
		r.Header.Add("Signature", label+"=:AAAA:")
		return
	}
	var sig []byte
	switch alg {
	case algEd25519:
		sig, err = key.Sign(rand.Reader, []byte(base), crypto.Hash(0))
	case algRSAv15SHA256:
		h := sha256.Sum256([]byte(base))
		sig, err = key.Sign(rand.Reader, h[:], crypto.SHA256)
	case algRSAPSSSHA512:
		h := sha512.Sum512([]byte(base))
		sig, err = key.Sign(rand.Reader, h[:], &rsa.PSSOptions{SaltLength: 64, Hash: crypto.SHA512})
	default:
		t.Fatalf("sign9421: algorithm %q", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Add("Signature", label+"=:"+base64.StdEncoding.EncodeToString(sig)+":")
}

func TestParseRFC9421(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	created := "created=" + itoa(now.Add(-time.Minute).Unix())
	body := []byte(`{"type":"Create","object":"tomatoes"}`)
	sum := sha256.Sum256(body)
	contentDigest := "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
	rsaKey := readPrivateKey(t, "rfc9421", "keys", "test-key-rsa.private.pem")
	edKey := readPrivateKey(t, "rfc9421", "keys", "test-key-ed25519.private.pem")
	const full = `("@method" "@target-uri" "content-digest")`

	type signature struct {
		label, input string
		key          crypto.Signer
		alg          string
	}
	tests := []struct {
		name     string
		sigs     []signature
		mutate   func(r *http.Request)
		verifyBy crypto.Signer // nil: the first signature's key
		wantKey  string
		want     string // "" means accepted and verified
	}{
		{name: "Mastodon-style rsa-v1_5-sha256 without alg", sigs: []signature{{"sig1", full + `;` + created + `;keyid="https://m.example/actor#main-key"`, rsaKey, algRSAv15SHA256}}, wantKey: "https://m.example/actor#main-key"},
		{name: "rsa-pss-sha512 without alg", sigs: []signature{{"sig1", full + `;` + created + `;keyid="k"`, rsaKey, algRSAPSSSHA512}}, wantKey: "k"},
		{name: "ed25519 with alg and @authority and @path", sigs: []signature{{"sig1", `("@method" "@authority" "@path" "content-digest");` + created + `;keyid="k";alg="ed25519"`, edKey, algEd25519}}, wantKey: "k"},
		{name: "@request-target with @authority", sigs: []signature{{"sig1", `("@method" "@authority" "@request-target" "content-digest");` + created + `;keyid="k"`, edKey, algEd25519}}, wantKey: "k"},
		{name: "first usable label wins", sigs: []signature{
			{"a", `("@authority");` + created + `;keyid="first"`, edKey, algEd25519},
			{"b", full + `;` + created + `;keyid="second"`, edKey, algEd25519},
		}, wantKey: "second"},
		{name: "missing @method", sigs: []signature{{"sig1", `("@target-uri" "content-digest");` + created + `;keyid="k"`, edKey, algEd25519}}, want: "@method not covered"},
		{name: "@path without @authority", sigs: []signature{{"sig1", `("@method" "@path" "content-digest");` + created + `;keyid="k"`, edKey, algEd25519}}, want: "@target-uri, or @authority and @path, not covered"},
		{name: "POST without content-digest (SIG-04)", sigs: []signature{{"sig1", `("@method" "@target-uri");` + created + `;keyid="k"`, edKey, algEd25519}}, want: "content-digest not covered"},
		{name: "body changed after signing (SIG-05)", sigs: []signature{{"sig1", full + `;` + created + `;keyid="k"`, edKey, algEd25519}}, mutate: func(r *http.Request) {
			s := sha256.Sum256([]byte(`{"type":"Create","object":"potatoes"}`))
			r.Header.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(s[:])+":")
		}, want: "content-digest does not match body"},
		{name: "missing created", sigs: []signature{{"sig1", full + `;keyid="k"`, edKey, algEd25519}}, want: "missing created"},
		{name: "created too old", sigs: []signature{{"sig1", full + `;created=` + itoa(now.Add(-13*time.Hour).Unix()) + `;keyid="k"`, edKey, algEd25519}}, want: "created too old"},
		{name: "created in the future", sigs: []signature{{"sig1", full + `;created=` + itoa(now.Add(2*time.Hour).Unix()) + `;keyid="k"`, edKey, algEd25519}}, want: "created in the future"},
		{name: "expires in the past (SIG-08b)", sigs: []signature{{"sig1", full + `;` + created + `;expires=` + itoa(now.Add(-time.Second).Unix()) + `;keyid="k"`, edKey, algEd25519}}, want: "signature expired"},
		{name: "hmac-sha256 (SIG-02)", sigs: []signature{{"sig1", full + `;` + created + `;keyid="k";alg="hmac-sha256"`, edKey, algEd25519}}, want: "hmac-sha256 not accepted"},
		{name: "unknown alg (SIG-02)", sigs: []signature{{"sig1", full + `;` + created + `;keyid="k";alg="rsa-sha1"`, edKey, algEd25519}}, want: "unsupported algorithm"},
		{name: "missing keyid", sigs: []signature{{"sig1", full + `;` + created, edKey, algEd25519}}, want: "missing keyid"},
		{name: "signed for another host (SIG-10)", sigs: []signature{{"sig1", full + `;` + created + `;keyid="k"`, edKey, algEd25519}}, mutate: func(r *http.Request) { r.Host = "other.example" }, want: "signed host"},
		{name: "signed for another path (SIG-11)", sigs: []signature{{"sig1", full + `;` + created + `;keyid="k"`, edKey, algEd25519}}, mutate: func(r *http.Request) { r.URL.Path = "/users/x/inbox" }, want: "signature does not verify"},
		{name: "component name not lower-case", sigs: []signature{{"sig1", `("@method" "@target-uri" "Content-Digest");` + created + `;keyid="k"`, edKey, algEd25519}}, want: "not lower-case"},
		{name: "component covered twice", sigs: []signature{{"sig1", `("@method" "@method" "@target-uri" "content-digest");` + created + `;keyid="k"`, edKey, algEd25519}}, want: "covered twice"},
		{name: "unsupported component parameter", sigs: []signature{{"sig1", `("@method" "@target-uri" "content-digest";sf);` + created + `;keyid="k"`, edKey, algEd25519}}, want: "unsupported parameter"},
		{name: "label without a signature", sigs: []signature{{"sig1", full + `;` + created + `;keyid="k"`, edKey, algEd25519}}, mutate: func(r *http.Request) { r.Header.Set("Signature", "other=:AAAA:") }, want: "no Signature for label"},
		{name: "signature is not a byte sequence", sigs: []signature{{"sig1", full + `;` + created + `;keyid="k"`, edKey, algEd25519}}, mutate: func(r *http.Request) { r.Header.Set("Signature", `sig1="AAAA"`) }, want: "not a byte sequence"},
		{name: "duplicate label", sigs: []signature{{"sig1", full + `;` + created + `;keyid="k"`, edKey, algEd25519}, {"sig1", full + `;` + created + `;keyid="k"`, edKey, algEd25519}}, want: "duplicate dictionary key"},
		{name: "wrong key", sigs: []signature{{"sig1", full + `;` + created + `;keyid="k"`, edKey, algEd25519}}, verifyBy: rsaKey, want: "signature does not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/inbox", bytes.NewReader(body))
			r.Host = "coppice.example"
			r.Header.Set("Content-Type", "application/activity+json")
			r.Header.Set("Content-Digest", contentDigest)
			for _, s := range tt.sigs {
				sign9421(t, r, s.label, s.input, s.key, s.alg)
			}
			if tt.mutate != nil {
				tt.mutate(r)
			}
			s, err := Parse(r, body, Options{Now: fixedClock(now), Host: "coppice.example"})
			if err == nil {
				key := tt.verifyBy
				if key == nil {
					key = tt.sigs[0].key
				}
				err = s.Verify(key.Public())
			}
			if tt.want != "" {
				wantReject(t, "Parse and Verify", err, tt.want)
				return
			}
			if err != nil {
				t.Fatalf("Parse and Verify = %v, want nil", err)
			}
			if got := s.KeyID(); got != tt.wantKey {
				t.Errorf("KeyID() = %q, want %q", got, tt.wantKey)
			}
		})
	}
}

func TestQueryParam(t *testing.T) {
	// RFC 9421 §2.2.8's example.
	const q = "var=this%20is%20a%20big%0Avalue&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something&dup=1&dup=2"
	tests := []struct {
		name, param, want, wantErr string
	}{
		{"value with an encoded line break", "var", "this%20is%20a%20big%0Avalue", ""},
		{"plus signs become %20", "bar", "with%20plus%20whitespace", ""},
		{"encoded name", "fa%C3%A7ade%22%3A%20", "something", ""},
		{"missing name", "nope", "", "missing"},
		{"repeated name", "dup", "", "repeated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := queryParam(q, tt.param)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("queryParam(%q) = %q, %v, want error containing %q", tt.param, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("queryParam(%q) = %q, %v, want %q", tt.param, got, err, tt.want)
			}
		})
	}
}
