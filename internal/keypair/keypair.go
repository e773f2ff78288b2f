// Package keypair makes and reads the RSA key pairs that actors sign with.
package keypair

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// Bits is the size of every key we make. Mastodon verifies only RSA keys.
const Bits = 2048

// Generate makes a new RSA-2048 key pair and returns it PEM-encoded:
// the private key as PKCS#8, the public key as SPKI ("PUBLIC KEY"), the form
// every fediverse server reads from publicKeyPem.
func Generate() (privatePEM, publicPEM string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, Bits)
	if err != nil {
		return "", "", fmt.Errorf("generate key: %w", err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("encode private key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", fmt.Errorf("encode public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})), nil
}

// ParsePrivate reads an RSA private key in PKCS#8 or PKCS#1 PEM.
func ParsePrivate(s string) (*rsa.PrivateKey, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("private key: no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key: %T is not RSA", k)
	}
	return rk, nil
}

// ParsePublic reads a public key in SPKI ("PUBLIC KEY") or PKCS#1
// ("RSA PUBLIC KEY") PEM, as remote actors publish it. It returns
// *rsa.PublicKey, ed25519.PublicKey or *ecdsa.PublicKey.
func ParsePublic(s string) (crypto.PublicKey, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("public key: no PEM block")
	}
	if k, err := x509.ParsePKIXPublicKey(b.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS1PublicKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return k, nil
}
