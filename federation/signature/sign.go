package signature

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-fed/httpsig"
)

// Sign signs r with a draft-cavage HTTP Signature the way Mastodon expects.
//
// The algorithm is rsa-sha256. When body is non-nil (a POST), Sign sets
// Digest: SHA-256=<base64> over body and signs "(request-target) host date
// digest content-type"; Content-Type must already be set. When body is nil
// (a GET), it signs "(request-target) host date". Sign sets Date from now
// (http.TimeFormat) and a Host header (r.Host, else r.URL.Host) when they
// are absent.
//
// The written Signature header carries keyId, algorithm="rsa-sha256",
// headers and signature. go-fed/httpsig writes algorithm="hs2019"; Sign
// rewrites it, since some servers built on node-http-signature reject
// hs2019 and the parameter is not itself signed.
func Sign(r *http.Request, body []byte, keyID string, key *rsa.PrivateKey, now time.Time) error {
	if err := SignHS2019(r, body, keyID, key, now); err != nil {
		return err
	}
	sig := r.Header.Get("Signature")
	r.Header.Set("Signature", strings.Replace(sig, `algorithm="hs2019"`, `algorithm="rsa-sha256"`, 1))
	return nil
}

// SignHS2019 is Sign with the algorithm parameter left as go-fed/httpsig
// writes it, algorithm="hs2019", as GoToSocial signs (RSA-SHA256
// underneath). Test peers use it to sign the way GoToSocial does.
func SignHS2019(r *http.Request, body []byte, keyID string, key *rsa.PrivateKey, now time.Time) error {
	if key == nil {
		return errors.New("sign request: no private key")
	}
	return signHS2019(r, body, keyID, now, func(headers []string, target *http.Request) error {
		// One signer per call: go-fed signers are not safe for concurrent use.
		// expiresIn 0: with a non-zero value, created and expires would be frozen
		// at NewSigner time.
		signer, _, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.RSA_SHA256},
			httpsig.DigestSha256, headers, httpsig.Signature, 0)
		if err != nil {
			return err
		}
		return signer.SignRequest(key, keyID, target, body)
	})
}

// signHS2019 checks and completes r's headers as SignHS2019 documents and
// calls sign with the headers to sign and a copy of r whose URL path is
// the exact request target; sign writes Digest and Signature into the
// header map the copy shares with r.
func signHS2019(r *http.Request, body []byte, keyID string, now time.Time, sign func(headers []string, target *http.Request) error) error {
	if keyID == "" || strings.ContainsAny(keyID, "\",\r\n") {
		return fmt.Errorf("sign request: bad key id %q", keyID)
	}
	if r.URL == nil {
		return errors.New("sign request: no URL")
	}
	if _, ok := r.Header["Signature"]; ok {
		return errors.New("sign request: Signature header already set")
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	// The Go client sends r.Host, else r.URL.Host, as the Host line, so that
	// is what gets signed; go-fed/httpsig reads "host" from r.Header only.
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	if host == "" {
		return errors.New("sign request: no host")
	}
	if h := r.Header.Get("Host"); h != "" && h != host {
		return fmt.Errorf("sign request: Host header %q differs from request host %q", h, host)
	}
	r.Header.Set("Host", host)
	if r.Header.Get("Date") == "" {
		r.Header.Set("Date", now.UTC().Format(http.TimeFormat))
	}

	headers := []string{httpsig.RequestTarget, "host", "date"}
	if body != nil {
		if r.Header.Get("Content-Type") == "" {
			return errors.New("sign request: Content-Type not set")
		}
		headers = append(headers, "digest", "content-type")
	}
	// go-fed/httpsig builds (request-target) from r.URL.Path (decoded) and
	// RawQuery, but the Go client sends r.URL.RequestURI() (escaped) on the
	// wire, and Parse verifies against that. Hand go-fed a copy whose Path is
	// the exact request URI; the header map is shared, so Digest and
	// Signature land in r.Header.
	target := *r
	target.URL = &url.URL{Path: r.URL.RequestURI()}
	if err := sign(headers, &target); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	return nil
}
