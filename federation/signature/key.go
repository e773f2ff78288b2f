package signature

import (
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/openssl"
	"github.com/go-fed/httpsig"
	"golang.org/x/crypto/ssh"
)

// Key is an RSA private key prepared to sign many requests. Its RSA
// signatures are made by OpenSSL (internal/openssl): the same bytes as
// crypto/rsa's, about 2.5 times as fast, which is what a delivery costs.
// A Key is safe for concurrent use.
type Key struct {
	priv *rsa.PrivateKey
	pub  ssh.PublicKey
	// signDigest signs a SHA-256 digest with OpenSSL; nil when OpenSSL
	// did not take the key.
	signDigest func(digest []byte) ([]byte, error)
}

// NewKey prepares priv for signing. A key OpenSSL does not take (it takes
// every RSA key crypto/rsa makes) signs with crypto/rsa instead.
func NewKey(priv *rsa.PrivateKey) (*Key, error) {
	if priv == nil {
		return nil, errors.New("signing key: no private key")
	}
	if err := priv.Validate(); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	pub, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k := &Key{priv: priv, pub: pub}
	if ssl, err := openssl.NewRSAKey(priv); err == nil {
		k.signDigest = ssl.SignSHA256
	}
	return k, nil
}

// Private returns the key as crypto/rsa holds it.
func (k *Key) Private() *rsa.PrivateKey { return k.priv }

// Sign signs r exactly as [Sign] does with k's private key: the same
// headers and, for the same Date, the same Signature header. Should
// OpenSSL fail, it signs with crypto/rsa: the bytes are the same.
func (k *Key) Sign(r *http.Request, body []byte, keyID string, now time.Time) error {
	if k.signDigest == nil {
		return Sign(r, body, keyID, k.priv, now)
	}
	// What signHS2019 adds, so that a failed attempt leaves r as it was.
	added := []string{"Host", "Date", "Digest", "Signature"}
	had := make([]bool, len(added))
	for i, h := range added {
		_, had[i] = r.Header[h]
	}
	err := signHS2019(r, body, keyID, now, func(headers []string, target *http.Request) error {
		// go-fed/httpsig takes a signer of its own only as an ssh.Signer;
		// it hands the signing string to sshRSA and writes the blob.
		signer, _, err := httpsig.NewSSHSigner(sshRSA{k}, httpsig.DigestSha256, headers, httpsig.Signature, 0)
		if err != nil {
			return err
		}
		return signer.SignRequest(keyID, target, body)
	})
	var failed *opensslError
	if errors.As(err, &failed) {
		for i, h := range added {
			if !had[i] {
				r.Header.Del(h)
			}
		}
		return Sign(r, body, keyID, k.priv, now)
	}
	if err != nil {
		return err
	}
	sig := r.Header.Get("Signature")
	r.Header.Set("Signature", strings.Replace(sig, `algorithm="hs2019"`, `algorithm="rsa-sha256"`, 1))
	return nil
}

// opensslError is a signature OpenSSL failed to make.
type opensslError struct{ err error }

func (e *opensslError) Error() string { return e.err.Error() }
func (e *opensslError) Unwrap() error { return e.err }

// sshRSA is k as the ssh.Signer go-fed/httpsig accepts: RSASSA-PKCS1-v1_5
// with SHA-256 over the signing string, as httpsig.RSA_SHA256 signs.
type sshRSA struct{ k *Key }

func (s sshRSA) PublicKey() ssh.PublicKey { return s.k.pub }

func (s sshRSA) Sign(_ io.Reader, data []byte) (*ssh.Signature, error) {
	digest := sha256.Sum256(data)
	blob, err := s.k.signDigest(digest[:])
	if err != nil {
		return nil, &opensslError{err}
	}
	return &ssh.Signature{Format: ssh.KeyAlgoRSASHA256, Blob: blob}, nil
}
