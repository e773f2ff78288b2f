package signature

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// maxFieldLen caps each signature-related header (all its lines joined), so
// hostile input is rejected before any parsing work.
const maxFieldLen = 8 << 10

// bodyHashes computes the digests of the raw body once, on demand.
type bodyHashes struct {
	body           []byte
	sha256, sha512 []byte
}

// sum returns the digest of the body for a lower-case algorithm name, or nil
// when the algorithm is not supported.
func (b *bodyHashes) sum(alg string) []byte {
	switch alg {
	case "sha-256":
		if b.sha256 == nil {
			s := sha256.Sum256(b.body)
			b.sha256 = s[:]
		}
		return b.sha256
	case "sha-512":
		if b.sha512 == nil {
			s := sha512.Sum512(b.body)
			b.sha512 = s[:]
		}
		return b.sha512
	}
	return nil
}

// fieldValue joins all lines of a header field with ", " and rejects it when
// it is longer than maxFieldLen.
func fieldValue(h http.Header, name string) (string, error) {
	vals := h.Values(name)
	n := 0
	for _, v := range vals {
		n += len(v) + 2
	}
	if n > maxFieldLen {
		return "", reject("%s header too large", name)
	}
	return strings.Join(vals, ", "), nil
}

// checkDigest checks a draft-cavage Digest header (RFC 3230) against the raw
// body. The header may list several digests; algorithm tokens are compared
// case-insensitively (Mastodon sends "SHA-256", others "sha-256"). Every
// SHA-256 or SHA-512 value must match and at least one must be present;
// other algorithms, such as MD5, are ignored.
func checkDigest(h http.Header, body []byte) error {
	v, err := fieldValue(h, "Digest")
	if err != nil {
		return err
	}
	if strings.TrimSpace(v) == "" {
		return reject("missing Digest header")
	}
	hashes := &bodyHashes{body: body}
	matched := 0
	for _, part := range strings.Split(v, ",") {
		alg, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return reject("malformed Digest header")
		}
		want := hashes.sum(strings.ToLower(alg))
		if want == nil {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val))
		if err != nil {
			return reject("malformed Digest header")
		}
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return reject("digest does not match body")
		}
		matched++
	}
	if matched == 0 {
		return reject("no SHA-256 or SHA-512 digest")
	}
	return nil
}

// checkContentDigest checks an RFC 9530 Content-Digest header, a structured
// dictionary such as `sha-256=:<base64>:`, against the raw body, with the
// same rules as checkDigest.
func checkContentDigest(h http.Header, body []byte) error {
	v, err := fieldValue(h, "Content-Digest")
	if err != nil {
		return err
	}
	members, err := parseDictionary(v)
	if err != nil {
		return reject("malformed Content-Digest header")
	}
	if len(members) == 0 {
		return reject("missing Content-Digest header")
	}
	hashes := &bodyHashes{body: body}
	matched := 0
	for _, m := range members {
		want := hashes.sum(m.key)
		if want == nil {
			continue
		}
		got, ok := m.item.value.([]byte)
		if m.isList || !ok {
			return reject("malformed Content-Digest header")
		}
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return reject("content-digest does not match body")
		}
		matched++
	}
	if matched == 0 {
		return reject("no sha-256 or sha-512 content-digest")
	}
	return nil
}

// checkBodyDigests checks each digest field that the signature covers.
func checkBodyDigests(h http.Header, body []byte, covers func(string) bool) error {
	if covers("digest") {
		if err := checkDigest(h, body); err != nil {
			return err
		}
	}
	if covers("content-digest") {
		if err := checkContentDigest(h, body); err != nil {
			return err
		}
	}
	return nil
}
