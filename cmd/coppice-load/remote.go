package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// remoteHost plays the authors' server: it serves each author's actor
// document (with its public key) and WebFinger, so the server under load
// fetches and verifies their keys over HTTP as it would a real peer's. All
// authors share one key pair, as the accounts of a small instance might
// not, but each has its own key id.
type remoteHost struct {
	URL     string
	key     *rsa.PrivateKey
	pemText string
	authors []string // names
	srv     *http.Server
	done    chan error
}

func startRemote(authors int) (*remoteHost, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("remote host key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("remote host key: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("remote host: %w", err)
	}
	rh := &remoteHost{
		URL:     "http://" + ln.Addr().String(),
		key:     key,
		pemText: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		done:    make(chan error, 1),
	}
	for i := 0; i < authors; i++ {
		rh.authors = append(rh.authors, fmt.Sprintf("author%d", i))
	}
	rh.srv = &http.Server{Handler: http.HandlerFunc(rh.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	go func() { rh.done <- rh.srv.Serve(ln) }()
	return rh, nil
}

// Close stops the host and waits for it.
func (rh *remoteHost) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := rh.srv.Shutdown(ctx)
	if serr := <-rh.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

func (rh *remoteHost) actorIRI(name string) string { return rh.URL + "/users/" + name }

func (rh *remoteHost) keyID(name string) string { return rh.actorIRI(name) + "#main-key" }

func (rh *remoteHost) isAuthor(name string) bool {
	for _, a := range rh.authors {
		if a == name {
			return true
		}
	}
	return false
}

func (rh *remoteHost) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "read-only host", http.StatusMethodNotAllowed)
		return
	}
	switch {
	case r.URL.Path == "/.well-known/webfinger":
		user, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Query().Get("resource"), "acct:"), "@")
		if !rh.isAuthor(user) {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, "application/jrd+json", map[string]any{
			"subject": r.URL.Query().Get("resource"),
			"links":   []map[string]string{{"rel": "self", "type": "application/activity+json", "href": rh.actorIRI(user)}},
		})
	case strings.HasPrefix(r.URL.Path, "/users/") && rh.isAuthor(strings.TrimPrefix(r.URL.Path, "/users/")):
		name := strings.TrimPrefix(r.URL.Path, "/users/")
		iri := rh.actorIRI(name)
		writeJSON(w, "application/activity+json", map[string]any{
			"@context":          []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
			"id":                iri,
			"type":              "Person",
			"preferredUsername": name,
			"name":              "Load author " + name,
			"inbox":             iri + "/inbox",
			"outbox":            iri + "/outbox",
			"endpoints":         map[string]string{"sharedInbox": rh.URL + "/inbox"},
			"publicKey":         map[string]string{"id": rh.keyID(name), "owner": iri, "publicKeyPem": rh.pemText},
		})
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	// Encoding our own maps of strings cannot fail.
	_ = json.NewEncoder(w).Encode(v)
}
