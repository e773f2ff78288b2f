package fetch

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/signature"
)

func TestNewSigner(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	const keyID = "https://coppice.test/actor#main-key"

	var mu sync.Mutex
	verified := map[string]error{}
	verify := func(r *http.Request) {
		signed, err := signature.Parse(r, nil, signature.Options{Now: func() time.Time { return now }})
		if err == nil {
			if signed.KeyID() != keyID {
				t.Errorf("%s: keyId = %q, want %q", r.URL.Path, signed.KeyID(), keyID)
			}
			err = signed.Verify(&key.PublicKey)
		}
		mu.Lock()
		verified[r.Host+r.URL.Path] = err
		mu.Unlock()
	}
	b := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		verify(r)
		serveDoc(w, selfURL(r))
	})
	a := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		verify(r)
		http.Redirect(w, r, b.URL+"/note", http.StatusFound)
	})
	f := testFetcher(t, NewSigner(keyID, key, func() time.Time { return now }), FetcherOptions{AllowPrivate: true})
	// The document is refused (its id is on b, not a), but both requests,
	// to two hosts, must carry a valid signature of their own.
	_, _, err = f.Fetch(context.Background(), a.URL+"/start")
	fetchError(t, err, KindInvalid)
	mu.Lock()
	defer mu.Unlock()
	for _, target := range []string{a.Listener.Addr().String() + "/start", b.Listener.Addr().String() + "/note"} {
		err, ok := verified[target]
		if !ok {
			t.Errorf("%s was not requested", target)
			continue
		}
		if err != nil {
			t.Errorf("signature of the request to %s: %v, want valid", target, err)
		}
	}
}
