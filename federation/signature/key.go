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
	ssl  *openssl.RSAKey
	pub  ssh.PublicKey
}

// NewKey prepares priv for signing.
func NewKey(priv *rsa.PrivateKey) (*Key, error) {
	if priv == nil {
		return nil, errors.New("signing key: no private key")
	}
	ssl, err := openssl.NewRSAKey(priv)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	pub, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return &Key{priv: priv, ssl: ssl, pub: pub}, nil
}

// Private returns the key as crypto/rsa holds it.
func (k *Key) Private() *rsa.PrivateKey { return k.priv }

// Sign signs r exactly as [Sign] does with k's private key: the same
// headers and, for the same Date, the same Signature header.
func (k *Key) Sign(r *http.Request, body []byte, keyID string, now time.Time) error {
	err := signHS2019(r, body, keyID, now, func(headers []string, target *http.Request) error {
		// go-fed/httpsig takes a signer of its own only as an ssh.Signer;
		// it hands the signing string to sshRSA and writes the blob.
		signer, _, err := httpsig.NewSSHSigner(sshRSA{k}, httpsig.DigestSha256, headers, httpsig.Signature, 0)
		if err != nil {
			return err
		}
		return signer.SignRequest(keyID, target, body)
	})
	if err != nil {
		return err
	}
	sig := r.Header.Get("Signature")
	r.Header.Set("Signature", strings.Replace(sig, `algorithm="hs2019"`, `algorithm="rsa-sha256"`, 1))
	return nil
}

// sshRSA is k as the ssh.Signer go-fed/httpsig accepts: RSASSA-PKCS1-v1_5
// with SHA-256 over the signing string, as httpsig.RSA_SHA256 signs.
type sshRSA struct{ k *Key }

func (s sshRSA) PublicKey() ssh.PublicKey { return s.k.pub }

func (s sshRSA) Sign(_ io.Reader, data []byte) (*ssh.Signature, error) {
	digest := sha256.Sum256(data)
	blob, err := s.k.ssl.SignSHA256(digest[:])
	if err != nil {
		return nil, err
	}
	return &ssh.Signature{Format: ssh.KeyAlgoRSASHA256, Blob: blob}, nil
}
