package signature

import (
	"bytes"
	"crypto"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary Signature, Signature-Input and Digest headers
// to Parse and, when Parse accepts, to Verify with each supported key type.
// It asserts only that nothing panics.
func FuzzParse(f *testing.F) {
	var c2 cavageCase
	readCase(f, &c2, "cavage-12", "c2-basic-test", "case.json")
	var b22, b26 rfc9421Case
	readCase(f, &b22, "rfc9421", "b2.2-selective-rsa-pss-sha512", "case.json")
	readCase(f, &b26, "rfc9421", "b2.6-ed25519", "case.json")
	const digest = "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
	body := []byte(`{"hello": "world"}`)

	f.Add(c2.header(), "", digest, body)
	f.Add(`keyId="k",algorithm="hs2019",created=1,expires=2,headers="(request-target) (created) (expires) host digest",signature="AAAA"`, "", "sha-256=AAAA, MD5=x", body)
	f.Add(`keyId="k",keyId="k",headers="",signature="!!"`, "", "", []byte(nil))
	f.Add(b22.Signature, b22.SignatureInput, "", body)
	f.Add(b26.Signature, b26.SignatureInput, "", body)
	f.Add(`sig1=:AAAA:`, `sig1=("@method" "@target-uri" "content-digest" "@query-param";name="a");created=1772366400;keyid="k";alg="ed25519"`, "", body)
	f.Add(`a=:AAAA:, b=?1`, `a=("@method";x=?0 "x");created=-1, b=(`, "", body)

	pubs := []crypto.PublicKey{
		readPublicKey(f, "rfc9421", "keys", "test-key-rsa.public.pem"),
		readPublicKey(f, "rfc9421", "keys", "test-key-ed25519.public.pem"),
		readPublicKey(f, "rfc9421", "keys", "test-key-ecc-p256.public.pem"),
	}
	now := time.Unix(1772366400, 0)
	f.Fuzz(func(t *testing.T, sig, input, digest string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "https://example.com/foo?param=value&a=1", bytes.NewReader(body))
		r.Header.Set("Date", now.Format(http.TimeFormat))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Content-Digest", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:")
		if sig != "" {
			r.Header.Set("Signature", sig)
		}
		if input != "" {
			r.Header.Set("Signature-Input", input)
		}
		if digest != "" {
			r.Header.Set("Digest", digest)
		}
		s, err := Parse(r, body, Options{Now: fixedClock(now), Host: "example.com"})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse = %v (%T), want *Error", err, err)
			}
			return
		}
		for _, pub := range pubs {
			if err := s.Verify(pub); err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("Verify = %v (%T), want *Error", err, err)
				}
			}
		}
	})
}
