package fedtest

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/signature"
)

// selfHosted is a remote actor served by a plain test server, so each test
// can break one thing a strict peer checks: its WebFinger answer.
type selfHosted struct {
	URL, Host, IRI, KeyID string
	inst                  *Instance // only for its key
}

func newSelfHosted(t *testing.T, wf func(s *selfHosted, w http.ResponseWriter, r *http.Request)) *selfHosted {
	t.Helper()
	s := &selfHosted{inst: New(t, OnAddress("127.0.0.9"))}
	der, err := x509.MarshalPKIXPublicKey(&s.inst.Key().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/webfinger":
			wf(s, w, r)
		case "/users/eve", "/users/eve/main-key":
			w.Header().Set("Content-Type", "application/activity+json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"@context":          []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
				"id":                s.IRI,
				"type":              "Person",
				"preferredUsername": "eve",
				"inbox":             s.IRI + "/inbox",
				"publicKey":         map[string]string{"id": s.KeyID, "owner": s.IRI, "publicKeyPem": pemText},
			})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.Host = strings.TrimPrefix(srv.URL, "http://")
	s.IRI = srv.URL + "/users/eve"
	s.KeyID = s.IRI + "/main-key"
	return s
}

func (s *selfHosted) do(t *testing.T, method, target string, body []byte) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", mediaAS)
	}
	if err := signature.SignHS2019(req, body, s.KeyID, s.inst.Key(), time.Now()); err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func goodWebFinger(s *selfHosted, w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/jrd+json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"subject": "acct:eve@" + s.Host,
		"links":   []map[string]string{{"rel": "self", "type": "application/activity+json", "href": s.IRI}},
	})
}

// TestStrictPeerAuthenticatesSignersLikeGoToSocial: a request is accepted
// only when its signer can be dereferenced and WebFingered back to itself;
// this is what refused our instance actor on a real GoToSocial (issue 10).
func TestStrictPeerAuthenticatesSignersLikeGoToSocial(t *testing.T) {
	tests := []struct {
		name     string
		wf       func(s *selfHosted, w http.ResponseWriter, r *http.Request)
		wantGet  int
		wantPost int
	}{
		{"WebFinger round trip holds", goodWebFinger, 200, 202},
		{"WebFinger answers 404", func(s *selfHosted, w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, 500, 401},
		{"WebFinger self points at another actor", func(s *selfHosted, w http.ResponseWriter, r *http.Request) {
			_ = json.NewEncoder(w).Encode(map[string]any{
				"subject": "acct:eve@" + s.Host,
				"links":   []map[string]string{{"rel": "self", "type": "application/activity+json", "href": s.URL + "/users/mallory"}},
			})
		}, 500, 401},
		{"WebFinger subject is another account", func(s *selfHosted, w http.ResponseWriter, r *http.Request) {
			_ = json.NewEncoder(w).Encode(map[string]any{
				"subject": "acct:mallory@" + s.Host,
				"links":   []map[string]string{{"rel": "self", "type": "application/activity+json", "href": s.IRI}},
			})
		}, 500, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer := New(t)
			alice := peer.NewActor("alice")
			eve := newSelfHosted(t, tt.wf)
			if code, body := eve.do(t, http.MethodGet, alice.IRI, nil); code != tt.wantGet {
				t.Errorf("signed GET of %s = %d %s, want %d", alice.IRI, code, body, tt.wantGet)
			}
			like := []byte(fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Like","actor":%q,"object":%q}`, eve.IRI+"/likes/1", eve.IRI, alice.IRI))
			if code, body := eve.do(t, http.MethodPost, alice.Inbox, like); code != tt.wantPost {
				t.Errorf("signed POST to %s = %d %s, want %d", alice.Inbox, code, body, tt.wantPost)
			}
		})
	}
}

func TestStrictPeerServesOnlyKeysAndWebFingerUnsigned(t *testing.T) {
	peer := New(t)
	alice := peer.NewActor("alice")
	get := func(u string) (int, map[string]any) {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	if code, _ := get(alice.IRI); code != 401 {
		t.Errorf("unsigned GET of the actor = %d, want 401", code)
	}
	peer.Serve("/notes/1", []byte(`{"id":"x"}`))
	if code, _ := get(peer.URL + "/notes/1"); code != 401 {
		t.Errorf("unsigned GET of an object = %d, want 401", code)
	}
	code, key := get(alice.KeyID)
	if code != 200 || key["id"] != alice.IRI || key["inbox"] != nil || key["publicKey"] == nil {
		t.Errorf("key document = %d %v, want 200, a minimal Person with the actor's id", code, key)
	}
	if code, _ := get(peer.URL + "/.well-known/webfinger?resource=acct:alice@" + peer.Host); code != 200 {
		t.Errorf("WebFinger = %d, want 200", code)
	}
	lenient := New(t, Lenient())
	bob := lenient.NewActor("bob")
	if code, _ := get(bob.IRI); code != 200 {
		t.Errorf("unsigned GET from a lenient peer = %d, want 200", code)
	}
}

func TestPeerSignsAsGoToSocial(t *testing.T) {
	peer := New(t)
	alice := peer.NewActor("alice")
	req, err := alice.SignedRequest("http://127.0.0.1:1/inbox", []byte(`{}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if sig := req.Header.Get("Signature"); !strings.Contains(sig, `algorithm="hs2019"`) || !strings.Contains(sig, `headers="(request-target) host date digest`) {
		t.Errorf("Signature = %s, want hs2019 over (request-target) host date digest", sig)
	}
	if ct := req.Header.Get("Content-Type"); ct != `application/ld+json; profile="https://www.w3.org/ns/activitystreams"` {
		t.Errorf("Content-Type = %q", ct)
	}
}
