// Package openssl signs with RSA keys through OpenSSL's libcrypto.
//
// An RSA-2048 signature is nearly all the CPU of a delivery, and OpenSSL's
// signing is about three times as fast as crypto/rsa's on the same machine
// (its Montgomery multiplication is hand-written assembly; Go's is
// constant-time portable code). The signatures are the same: PKCS #1 v1.5
// is deterministic, so a signature made here is byte for byte the one
// crypto/rsa makes with the same key and message.
//
// Keys are handed to OpenSSL as PKCS #1 DER and never leave the process.
// OpenSSL blinds every private-key operation and runs it in constant time.
// Nothing a peer sends reaches it: it signs digests we computed with our
// own keys. Peers' signatures are still verified by crypto/rsa and
// go-fed/httpsig (federation/signature), where OpenSSL saved little: ~20
// against ~25 µs a verification, most of it OpenSSL 3's per-call setup.
package openssl

/*
#cgo LDFLAGS: -lcrypto
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/err.h>

// coppice_rsa_key parses a PKCS #1 DER private key; NULL when it is not one.
static EVP_PKEY *coppice_rsa_key(const unsigned char *der, long len) {
	const unsigned char *p = der;
	EVP_PKEY *k = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, len);
	if (k != NULL && p != der + len) {
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

// coppice_rsa_sign writes the PKCS #1 v1.5 signature of a SHA-256 digest
// into sig (*siglen bytes free); 1 on success.
static int coppice_rsa_sign(EVP_PKEY *k, const unsigned char *digest, size_t dlen, unsigned char *sig, size_t *siglen) {
	int ok = 0;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
	if (ctx == NULL) {
		return 0;
	}
	if (EVP_PKEY_sign_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_sign(ctx, sig, siglen, digest, dlen) == 1) {
		ok = 1;
	}
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

// coppice_error is the oldest error on this thread's queue, which it
// empties; 0 when there is none.
static unsigned long coppice_error(void) {
	unsigned long e = ERR_get_error();
	ERR_clear_error();
	return e;
}
*/
import "C"

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// RSAKey is a private key loaded into OpenSSL. It is safe for concurrent
// use; OpenSSL's copy is freed when the RSAKey is garbage collected.
type RSAKey struct {
	pkey *C.EVP_PKEY
	size int // bytes in a signature
}

// NewRSAKey loads key into OpenSSL.
func NewRSAKey(key *rsa.PrivateKey) (*RSAKey, error) {
	if key == nil {
		return nil, errors.New("openssl: no key")
	}
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("openssl: %w", err)
	}
	der := x509.MarshalPKCS1PrivateKey(key)
	cder := C.CBytes(der)
	clear(der)
	runtime.LockOSThread() // the error queue is per thread
	defer runtime.UnlockOSThread()
	pkey := C.coppice_rsa_key((*C.uchar)(cder), C.long(len(der)))
	C.memset(cder, 0, C.size_t(len(der)))
	C.free(cder)
	if pkey == nil {
		return nil, fmt.Errorf("openssl: load RSA key: %s", lastError())
	}
	k := &RSAKey{pkey: pkey, size: key.Size()}
	runtime.AddCleanup(k, func(p *C.EVP_PKEY) { C.EVP_PKEY_free(p) }, pkey)
	return k, nil
}

// SignSHA256 returns the RSASSA-PKCS1-v1_5 signature of a SHA-256 digest,
// as rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest) does.
func (k *RSAKey) SignSHA256(digest []byte) ([]byte, error) {
	if len(digest) != sha256.Size {
		return nil, fmt.Errorf("openssl: digest of %d bytes, want %d", len(digest), sha256.Size)
	}
	sig := make([]byte, k.size)
	n := C.size_t(len(sig))
	runtime.LockOSThread()
	ok := C.coppice_rsa_sign(k.pkey, (*C.uchar)(unsafe.Pointer(&digest[0])), C.size_t(len(digest)),
		(*C.uchar)(unsafe.Pointer(&sig[0])), &n)
	var err error
	if ok != 1 {
		err = fmt.Errorf("openssl: sign: %s", lastError())
	}
	runtime.UnlockOSThread()
	runtime.KeepAlive(k)
	if err != nil {
		return nil, err
	}
	if int(n) != len(sig) {
		return nil, fmt.Errorf("openssl: sign: %d bytes, want %d", n, len(sig))
	}
	return sig, nil
}

// lastError describes the oldest error on the calling thread's OpenSSL
// error queue and empties it. The caller has locked its OS thread.
func lastError() string {
	e := C.coppice_error()
	if e == 0 {
		return "no error recorded"
	}
	buf := make([]byte, 256)
	C.ERR_error_string_n(e, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	for i, b := range buf {
		if b == 0 {
			return string(buf[:i])
		}
	}
	return string(buf)
}
