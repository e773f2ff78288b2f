package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-fed/httpsig"
)

// Scheme names returned by Signed.Scheme.
const (
	SchemeCavage  = "cavage"
	SchemeRFC9421 = "rfc9421"
)

// Defaults for Options.
const (
	DefaultMaxAge    = 12 * time.Hour
	DefaultMaxFuture = time.Hour
)

// Options controls Parse.
type Options struct {
	// Now returns the current time. It is required.
	Now func() time.Time
	// MaxAge is how old the Date header or the created parameter may be.
	// Zero means DefaultMaxAge.
	MaxAge time.Duration
	// MaxFuture is how far ahead of Now the Date header or the created
	// parameter may be, to allow for clock skew. Zero means
	// DefaultMaxFuture.
	MaxFuture time.Duration
	// Host, when non-empty, is the host the request must be addressed to:
	// the signed host (draft-cavage) or @authority (RFC 9421) must equal it.
	// When empty, r.Host is used.
	Host string
	// Scheme is the URI scheme the peer used to reach us, for the RFC 9421
	// @scheme and @target-uri components. When empty, r.URL.Scheme is used
	// if set, else "https": ActivityPub peers speak HTTPS, and TLS usually
	// ends at a reverse proxy in front of us.
	Scheme string
}

// Signed is a request whose signature has been parsed and whose structure,
// digest, date and host were checked, but whose cryptographic signature is
// not yet verified: the caller fetches the key named by KeyID, then calls
// Verify.
type Signed struct {
	scheme    string
	keyID     string
	headers   []string
	algorithm string // as declared by the peer; "" when absent
	base      string // the signing string (cavage) or signature base (RFC 9421)
	signature []byte
	goFed     *http.Request // cavage only; nil means verify by hand
}

// KeyID returns the key identifier the peer named, usually the IRI of a
// publicKey in an actor document.
func (s *Signed) KeyID() string { return s.keyID }

// Scheme returns SchemeCavage or SchemeRFC9421.
func (s *Signed) Scheme() string { return s.scheme }

// Headers returns the covered headers (draft-cavage) or component
// identifiers (RFC 9421, such as "@method" or `@query-param;name="page"`),
// in the order they were signed.
func (s *Signed) Headers() []string { return slices.Clone(s.headers) }

// Verify checks the signature with pub, which may be an *rsa.PublicKey, an
// ed25519.PublicKey or an *ecdsa.PublicKey.
//
// For draft-cavage the algorithm follows the key type: rsa-sha256 for RSA,
// ed25519 for Ed25519, ecdsa-sha256 for ECDSA; the algorithm parameter may
// be absent, "hs2019", or name that algorithm. For RFC 9421 the alg
// parameter is used when present; when it is absent an RSA key is tried
// with rsa-v1_5-sha256 (what Mastodon sends) and then rsa-pss-sha512, a
// P-256 key with ecdsa-p256-sha256 and an Ed25519 key with ed25519.
//
// Verify returns an *Error on failure.
func (s *Signed) Verify(pub crypto.PublicKey) error {
	if s.scheme == SchemeCavage {
		return s.verifyCavage(pub)
	}
	return s.verify9421(pub)
}

func (s *Signed) verifyCavage(pub crypto.PublicKey) error {
	var own string
	var goFed httpsig.Algorithm
	switch pub.(type) {
	case *rsa.PublicKey:
		own, goFed = algRSAv15SHA256, httpsig.RSA_SHA256
	case ed25519.PublicKey:
		own, goFed = algEd25519, httpsig.ED25519
	case *ecdsa.PublicKey:
		own, goFed = algECDSAASN1, httpsig.ECDSA_SHA256
	default:
		return reject("unsupported key type %T", pub)
	}
	switch s.algorithm {
	case "", "hs2019":
	case "rsa-sha256", "ed25519":
		if string(goFed) != s.algorithm {
			return reject("algorithm %s does not match the key", quote(s.algorithm))
		}
	default:
		return reject("unsupported algorithm %s", quote(s.algorithm))
	}
	if s.goFed != nil {
		v, err := httpsig.NewVerifier(s.goFed)
		if err != nil {
			return reject("malformed signature")
		}
		if err := v.Verify(pub, goFed); err != nil {
			return reject("signature does not verify")
		}
		return nil
	}
	return verifyReason(verifyWith(pub, own, []byte(s.base), s.signature), own)
}

func (s *Signed) verify9421(pub crypto.PublicKey) error {
	base := []byte(s.base)
	if s.algorithm != "" {
		return verifyReason(verifyWith(pub, s.algorithm, base, s.signature), s.algorithm)
	}
	switch pub.(type) {
	case *rsa.PublicKey:
		err := verifyWith(pub, algRSAv15SHA256, base, s.signature)
		if errors.Is(err, errBadSignature) {
			err = verifyWith(pub, algRSAPSSSHA512, base, s.signature)
		}
		return verifyReason(err, algRSAv15SHA256)
	case ed25519.PublicKey:
		return verifyReason(verifyWith(pub, algEd25519, base, s.signature), algEd25519)
	case *ecdsa.PublicKey:
		return verifyReason(verifyWith(pub, algECDSAP256SHA256, base, s.signature), algECDSAP256SHA256)
	}
	return reject("unsupported key type %T", pub)
}

// Signature algorithms, named as RFC 9421 §6.2 registers them, plus the
// ASN.1-encoded ECDSA that draft-cavage uses.
const (
	algRSAv15SHA256    = "rsa-v1_5-sha256"
	algRSAPSSSHA512    = "rsa-pss-sha512"
	algECDSAP256SHA256 = "ecdsa-p256-sha256"
	algEd25519         = "ed25519"
	algHMACSHA256      = "hmac-sha256"
	algECDSAASN1       = "ecdsa-sha256-asn1"
)

var (
	errBadSignature = errors.New("signature does not verify")
	errKeyMismatch  = errors.New("key does not fit algorithm")
	errUnknownAlg   = errors.New("unsupported algorithm")
)

// verifyReason turns a verifyWith error into an *Error, or nil.
func verifyReason(err error, alg string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errKeyMismatch):
		return reject("algorithm %s does not match the key", quote(alg))
	case errors.Is(err, errUnknownAlg):
		return reject("unsupported algorithm %s", quote(alg))
	}
	return reject("signature does not verify")
}

// verifyWith checks sig over base with pub and the named algorithm.
func verifyWith(pub crypto.PublicKey, alg string, base, sig []byte) error {
	switch alg {
	case algRSAv15SHA256, algRSAPSSSHA512:
		k, ok := pub.(*rsa.PublicKey)
		if !ok || k == nil || k.N == nil {
			return errKeyMismatch
		}
		var err error
		if alg == algRSAv15SHA256 {
			h := sha256.Sum256(base)
			err = rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig)
		} else {
			// RFC 9421 §3.3.1: MGF1 with SHA-512 and a 64-byte salt.
			h := sha512.Sum512(base)
			err = rsa.VerifyPSS(k, crypto.SHA512, h[:], sig, &rsa.PSSOptions{SaltLength: 64, Hash: crypto.SHA512})
		}
		if err != nil {
			return errBadSignature
		}
		return nil
	case algECDSAP256SHA256, algECDSAASN1:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k == nil || k.Curve == nil {
			return errKeyMismatch
		}
		h := sha256.Sum256(base)
		if alg == algECDSAASN1 {
			if !ecdsa.VerifyASN1(k, h[:], sig) {
				return errBadSignature
			}
			return nil
		}
		// RFC 9421 §3.3.4: r and s as two 32-byte big-endian integers.
		if k.Curve != elliptic.P256() {
			return errKeyMismatch
		}
		if len(sig) != 64 {
			return errBadSignature
		}
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(k, h[:], r, s) {
			return errBadSignature
		}
		return nil
	case algEd25519:
		k, ok := pub.(ed25519.PublicKey)
		if !ok || len(k) != ed25519.PublicKeySize {
			return errKeyMismatch
		}
		if !ed25519.Verify(k, base, sig) {
			return errBadSignature
		}
		return nil
	}
	return errUnknownAlg
}

// Parse reads the signature of an incoming request and checks everything
// that does not need the key. body is the raw request body, already read
// under a size limit.
//
// A request with a Signature-Input header is read as RFC 9421; otherwise a
// Signature header, or "Authorization: Signature ...", is read as
// draft-cavage. Without either, Parse returns an *Error with Missing set.
//
// Parse requires the signature to cover the request target, the host and
// the time (draft-cavage: "(request-target)", "host", and "date" or
// "(created)"; RFC 9421: "@method", the target URI or path and authority,
// and the created parameter), and, when the request has a body or is a
// POST, the Digest or Content-Digest, which must match the raw body. The
// Date, created and expires values must lie in the window Options sets,
// and the signed host must be the one the request was addressed to.
//
// Parse returns an *Error for every rejection, and a plain error only when
// Options.Now is nil.
func Parse(r *http.Request, body []byte, opt Options) (*Signed, error) {
	if opt.Now == nil {
		return nil, errors.New("parse http signature: Options.Now is nil")
	}
	if opt.MaxAge <= 0 {
		opt.MaxAge = DefaultMaxAge
	}
	if opt.MaxFuture <= 0 {
		opt.MaxFuture = DefaultMaxFuture
	}
	if r.URL == nil {
		return nil, reject("request has no URL")
	}
	if _, ok := r.Header["Signature-Input"]; ok {
		return parse9421(r, body, &opt)
	}
	raw, ok, err := cavageHeader(r.Header)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &Error{Reason: "no signature", Missing: true}
	}
	return parseCavage(r, raw, body, &opt)
}

// hasBody reports whether the signature must cover a body digest.
func hasBody(r *http.Request, body []byte) bool {
	return len(body) > 0 || r.Method == http.MethodPost
}

func unixTime(sec int64) time.Time { return time.Unix(sec, 0) }

// checkWindow checks that t lies in [now-MaxAge, now+MaxFuture].
func checkWindow(what string, t, now time.Time, opt *Options) error {
	if t.Before(now.Add(-opt.MaxAge)) {
		return reject("%s too old", what)
	}
	if t.After(now.Add(opt.MaxFuture)) {
		return reject("%s in the future", what)
	}
	return nil
}

// checkDate checks the Date header against the window.
func checkDate(h http.Header, now time.Time, opt *Options) error {
	vals := h.Values("Date")
	switch len(vals) {
	case 0:
		return reject("missing Date header")
	case 1:
	default:
		return reject("more than one Date header")
	}
	t, err := http.ParseTime(vals[0])
	if err != nil {
		return reject("malformed Date header")
	}
	return checkWindow("date", t, now, opt)
}

// wantHost returns the host the request must be addressed to.
func wantHost(r *http.Request, opt *Options) string {
	if opt.Host != "" {
		return opt.Host
	}
	return r.Host
}

// checkHost compares the signed host with the one we expect. Host names
// are case-insensitive.
func checkHost(signed, want string) error {
	if want == "" {
		return reject("request has no host")
	}
	if !strings.EqualFold(strings.TrimSpace(signed), want) {
		return reject("signed host %s is not %s", quote(signed), quote(want))
	}
	return nil
}
