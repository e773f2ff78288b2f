package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/coppice-dev/coppice/internal/server"
)

// signedGet GETs rawURL as ActivityPub, signed with key id keyID of peer
// (nil peer: unsigned).
func signedGet(t *testing.T, rawURL, accept string, peer *fedtest.Instance, keyID string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	if peer != nil {
		if err := signature.Sign(req, nil, keyID, peer.Key(), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestAuthorizedFetch(t *testing.T) {
	ti := newInstance(t, true, func(o *server.Options) { o.AuthorizedFetch = true })
	host := strings.TrimPrefix(ti.URL, "http://")
	friend := fedtest.New(t, fedtest.OnAddress("127.0.0.71"))
	alice := friend.NewActor("alice")
	foe := fedtest.New(t, fedtest.OnAddress("127.0.0.72"))
	mallory := foe.NewActor("mallory")
	if err := ti.svc.SetDomainPolicy(context.Background(), foe.Host, "block"); err != nil {
		t.Fatal(err)
	}
	const ap, html = "application/activity+json", "text/html"
	group := ti.URL + "/c/seedbreeders"

	tests := []struct {
		name, url, accept string
		peer              *fedtest.Instance
		keyID             string
		want              int
		has, lacks        string
	}{
		{"unsigned GET of a collection", group + "/outbox", ap, nil, "", 401, "", ""},
		{"unsigned GET of a collection page", group + "/followers?page=1", ap, nil, "", 401, "", ""},
		{"unsigned GET of a thread", group + "/threads/1", ap, nil, "", 401, "", ""},
		{"unsigned GET of the instance outbox", ti.URL + "/actor/outbox", ap, nil, "", 401, "", ""},
		{"unsigned GET of a community gets its key document only", group, ap, nil, "", 200, "publicKeyPem", `"outbox"`},
		{"unsigned WebFinger", ti.URL + "/.well-known/webfinger?resource=acct:seedbreeders@" + host, "", nil, "", 200, "", ""},
		{"unsigned NodeInfo", ti.URL + "/nodeinfo/2.1", "", nil, "", 200, "", ""},
		{"unsigned instance actor", ti.URL + "/actor", ap, nil, "", 200, "publicKeyPem", ""},
		{"a browser gets the community page", group, html, nil, "", 200, "<h1>Seed breeders</h1>", ""},
		{"signed GET of a collection", group + "/outbox", ap, friend, alice.KeyID, 200, "OrderedCollection", ""},
		{"signed GET of a community gets the whole Group", group, ap, friend, alice.KeyID, 200, `"outbox"`, ""},
		{"a signature with someone else's key", group + "/outbox", ap, foe, alice.KeyID, 401, "", ""},
		{"a blocked host's collection fetch", group + "/outbox", ap, foe, mallory.KeyID, 403, "", ""},
		{"a blocked host's community fetch", group, ap, foe, mallory.KeyID, 403, "", ""},
		{"a blocked host's WebFinger", ti.URL + "/.well-known/webfinger?resource=acct:seedbreeders@" + host, "", foe, mallory.KeyID, 403, "", ""},
		{"a blocked host's page view", group, html, foe, mallory.KeyID, 403, "", ""},
		{"a blocked host's instance actor fetch", ti.URL + "/actor", ap, foe, mallory.KeyID, 403, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := signedGet(t, tt.url, tt.accept, tt.peer, tt.keyID)
			if code != tt.want {
				t.Fatalf("GET %s: %d %.200s, want %d", tt.url, code, body, tt.want)
			}
			if tt.has != "" && !strings.Contains(body, tt.has) {
				t.Errorf("GET %s: body lacks %s: %.300s", tt.url, tt.has, body)
			}
			if tt.lacks != "" && strings.Contains(body, tt.lacks) {
				t.Errorf("GET %s: body has %s: %.300s", tt.url, tt.lacks, body)
			}
		})
	}
	if n := foe.Gets("/users/mallory"); n != 0 {
		t.Errorf("the blocked host's key was fetched %d times, want never", n)
	}
}

// Without --authorized-fetch, unsigned fetches get everything.
func TestUnsignedFetchWithoutAuthorizedFetch(t *testing.T) {
	ti := newInstance(t, true)
	if code, body := signedGet(t, ti.URL+"/c/seedbreeders/outbox", "application/activity+json", nil, ""); code != 200 {
		t.Errorf("unsigned outbox: %d %s, want 200", code, body)
	}
	if code, body := signedGet(t, ti.URL+"/c/seedbreeders", "application/activity+json", nil, ""); code != 200 || !strings.Contains(body, `"outbox"`) {
		t.Errorf("unsigned Group: %d %.200s, want the whole Group", code, body)
	}
}
