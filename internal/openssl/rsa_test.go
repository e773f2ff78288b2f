package openssl

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"strconv"
	"sync"
	"testing"
)

// PKCS #1 v1.5 is deterministic: OpenSSL's signature must be crypto/rsa's,
// byte for byte, for every key and message.
func TestSignaturesAreCryptoRSAs(t *testing.T) {
	for _, bits := range []int{1024, 2048, 3072, 4096} {
		key, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		k, err := NewRSAKey(key)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			digest := sha256.Sum256([]byte("message " + strconv.Itoa(i)))
			got, err := k.SignSHA256(digest[:])
			if err != nil {
				t.Fatal(err)
			}
			want, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("%d bits, message %d: OpenSSL's signature differs from crypto/rsa's", bits, i)
			}
			if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], got); err != nil {
				t.Fatalf("%d bits: %v", bits, err)
			}
		}
	}
}

func TestSignConcurrently(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewRSAKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				digest := sha256.Sum256([]byte(strconv.Itoa(g*1000 + i)))
				sig, err := k.SignSHA256(digest[:])
				if err == nil {
					err = rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestBadInput(t *testing.T) {
	if _, err := NewRSAKey(nil); err == nil {
		t.Error("NewRSAKey(nil): no error")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	broken := *key
	broken.Primes = nil
	if _, err := NewRSAKey(&broken); err == nil {
		t.Error("a key without its primes was loaded")
	}
	k, err := NewRSAKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 20, 31, 33, 64} {
		if _, err := k.SignSHA256(make([]byte, n)); err == nil {
			t.Errorf("a digest of %d bytes was signed", n)
		}
	}
}

func BenchmarkSignSHA256(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	k, err := NewRSAKey(key)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("x"))
	b.Run("openssl", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := k.SignSHA256(digest[:]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("crypto-rsa", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
