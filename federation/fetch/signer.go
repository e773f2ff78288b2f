package fetch

import (
	"crypto/rsa"
	"net/http"
	"time"

	"github.com/coppice-dev/coppice/federation/signature"
)

// NewSigner returns a Signer that signs GETs with key, named by keyID
// (the instance actor's key), using signature.Sign: rsa-sha256 over
// "(request-target) host date". now defaults to time.Now.
func NewSigner(keyID string, key *rsa.PrivateKey, now func() time.Time) Signer {
	if now == nil {
		now = time.Now
	}
	return func(r *http.Request) error {
		return signature.Sign(r, nil, keyID, key, now())
	}
}
