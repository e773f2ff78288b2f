package fedtest

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/coppice-dev/coppice/internal/keypair"
	"github.com/coppice-dev/coppice/storage"
)

// signer is an actor whose key verified a request to the instance.
type signer struct {
	keyID string
	actor string // the actor's id
	key   crypto.PublicKey
}

// authError is why a request's signer did not authenticate. signer is
// true when the signature was fine as far as it went but the signing actor
// could not be dereferenced or WebFingered (GoToSocial answers a GET with
// 500 then).
type authError struct {
	signer bool
	err    error
}

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// authenticate checks the HTTP signature of r the way GoToSocial does. It
// fetches the keyId (for GoToSocial-style minimal key documents, the actor
// they name too), dereferences the owning actor with a signed GET, and
// WebFingers it as acct:preferredUsername@host, requiring the subject and
// the self link to lead back to the actor. A strict instance refuses the
// request when any step fails; a lenient one checks only the signature
// against the key document. actor, when set, must be the key's owner.
// Authenticated signers are remembered by key id; a signature that no
// longer verifies with a remembered key is checked once more against a
// fresh fetch (key rotation).
func (in *Instance) authenticate(r *http.Request, body []byte, actor string) (signer, error) {
	s, err := signature.Parse(r, body, signature.Options{Now: time.Now, Host: in.Host})
	if err != nil {
		return signer{}, &authError{err: err}
	}
	in.mu.Lock()
	known, ok := in.signers[s.KeyID()]
	in.mu.Unlock()
	if !ok || s.Verify(known.key) != nil {
		known, err = in.authenticateSigner(r.Context(), s.KeyID())
		if err != nil {
			return signer{keyID: s.KeyID()}, err
		}
		if err := s.Verify(known.key); err != nil {
			return known, &authError{err: err}
		}
		in.mu.Lock()
		in.signers[s.KeyID()] = known
		in.mu.Unlock()
	}
	if actor != "" && actor != known.actor {
		return known, &authError{err: fmt.Errorf("key owner %s is not the actor %q", known.actor, actor)}
	}
	return known, nil
}

// authenticateSigner finds and checks the actor that owns keyID.
func (in *Instance) authenticateSigner(ctx context.Context, keyID string) (signer, error) {
	keyURL := strings.SplitN(keyID, "#", 2)[0]
	body, err := in.fetch(ctx, keyURL)
	if err != nil {
		return signer{}, &authError{signer: true, err: fmt.Errorf("fetch key %s: %w", keyID, err)}
	}
	owner, pemText, err := keyDocument(body, keyID)
	if err != nil {
		return signer{}, &authError{signer: true, err: fmt.Errorf("key %s: %w", keyID, err)}
	}
	keyHost := hostOf(keyID)
	if in.strict && !in.handshaking(keyHost) {
		// While this instance dereferences an actor on a host, that host
		// may dereference this instance's own signer in turn; GoToSocial
		// then takes the key document alone for the signer instead of
		// looping ("handshake"), and so does this one.
		done := in.startHandshake(keyHost)
		defer done()
		a, err := in.dereference(ctx, owner)
		if err != nil {
			return signer{}, &authError{signer: true, err: err}
		}
		if a.KeyID != keyID {
			return signer{}, &authError{signer: true, err: fmt.Errorf("actor %s does not own key %s", a.IRI, keyID)}
		}
		if err := in.webFingerCheck(ctx, a); err != nil {
			return signer{}, &authError{signer: true, err: err}
		}
		pemText = a.PublicKeyPEM
	}
	pub, err := keypair.ParsePublic(pemText)
	if err != nil {
		return signer{}, &authError{signer: true, err: fmt.Errorf("key %s: %w", keyID, err)}
	}
	return signer{keyID: keyID, actor: owner, key: pub}, nil
}

// handshaking reports whether the instance is dereferencing an actor on
// host right now.
func (in *Instance) handshaking(host string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.handshakes[host] > 0
}

// startHandshake marks host as being dereferenced until the returned
// function is called.
func (in *Instance) startHandshake(host string) func() {
	in.mu.Lock()
	in.handshakes[host]++
	in.mu.Unlock()
	return func() {
		in.mu.Lock()
		in.handshakes[host]--
		in.mu.Unlock()
	}
}

func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// keyDocument reads the document served at a key id: a whole actor that
// owns the key (Mastodon, Coppice), or a minimal one whose id is the actor
// (GoToSocial). It returns the owner's id and the key.
func keyDocument(body []byte, keyID string) (owner, pemText string, err error) {
	var doc struct {
		ID        string          `json:"id"`
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", "", err
	}
	type key struct {
		ID           string `json:"id"`
		Owner        string `json:"owner"`
		PublicKeyPem string `json:"publicKeyPem"`
	}
	var keys []key
	if json.Unmarshal(doc.PublicKey, &keys) != nil {
		var k key
		if err := json.Unmarshal(doc.PublicKey, &k); err != nil {
			return "", "", fmt.Errorf("publicKey: %w", err)
		}
		keys = []key{k}
	}
	for _, k := range keys {
		if k.ID == keyID && k.Owner == doc.ID && k.PublicKeyPem != "" {
			return doc.ID, k.PublicKeyPem, nil
		}
	}
	return "", "", fmt.Errorf("the document at the key id names no key %s owned by %s", keyID, doc.ID)
}

// dereference fetches an actor with a signed GET and parses it.
func (in *Instance) dereference(ctx context.Context, actorIRI string) (storage.Actor, error) {
	body, err := in.fetch(ctx, actorIRI)
	if err != nil {
		return storage.Actor{}, fmt.Errorf("dereference %s: %w", actorIRI, err)
	}
	a, err := federation.ParseActor(ctx, body)
	if err != nil {
		return storage.Actor{}, fmt.Errorf("dereference %s: %w", actorIRI, err)
	}
	if a.IRI != actorIRI {
		return storage.Actor{}, fmt.Errorf("dereference %s: the document's id is %s", actorIRI, a.IRI)
	}
	return a, nil
}

// webFingerCheck WebFingers a as acct:preferredUsername@host (the host of
// its id, port included) and requires the round trip that Mastodon and
// GoToSocial require: the subject is that acct and the ActivityPub self
// link is a's id.
func (in *Instance) webFingerCheck(ctx context.Context, a storage.Actor) error {
	id, err := url.Parse(a.IRI)
	if err != nil {
		return err
	}
	if a.PreferredUsername == "" {
		return fmt.Errorf("actor %s has no preferredUsername to WebFinger", a.IRI)
	}
	acct := "acct:" + a.PreferredUsername + "@" + id.Host
	wf := id.Scheme + "://" + id.Host + "/.well-known/webfinger?" + url.Values{"resource": {acct}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wf, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/jrd+json")
	res, err := in.client.Do(req)
	if err != nil {
		return fmt.Errorf("webfinger %s: %w", acct, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("webfinger %s: status %d", acct, res.StatusCode)
	}
	var jrd struct {
		Subject string `json:"subject"`
		Links   []struct {
			Rel, Type, Href string
		} `json:"links"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<16)).Decode(&jrd); err != nil {
		return fmt.Errorf("webfinger %s: %w", acct, err)
	}
	if !strings.EqualFold(jrd.Subject, acct) {
		return fmt.Errorf("webfinger %s: subject is %q", acct, jrd.Subject)
	}
	for _, l := range jrd.Links {
		if l.Rel == "self" && (l.Type == "application/activity+json" || l.Type == mediaAS) {
			if l.Href != a.IRI {
				return fmt.Errorf("webfinger %s: self is %s, not the actor %s", acct, l.Href, a.IRI)
			}
			return nil
		}
	}
	return fmt.Errorf("webfinger %s: no ActivityPub self link", acct)
}

// Fetch GETs an ActivityStreams document signed by the instance's own
// actor, as a GoToSocial user's server does when it looks something up.
func (in *Instance) Fetch(ctx context.Context, rawURL string) ([]byte, error) {
	return in.fetch(ctx, rawURL)
}

// Resolve finds the actor of a handle (NAME@HOST) the way GoToSocial does
// when a user searches for it: WebFinger, a signed GET of the self link,
// and the round trip from the actor's preferredUsername back to it. It
// returns the actor's document.
func (in *Instance) Resolve(ctx context.Context, handle string) (storage.Actor, error) {
	user, host, ok := strings.Cut(strings.TrimPrefix(handle, "@"), "@")
	if !ok {
		return storage.Actor{}, fmt.Errorf("resolve %q: want NAME@HOST", handle)
	}
	wf := "http://" + host + "/.well-known/webfinger?" + url.Values{"resource": {"acct:" + user + "@" + host}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wf, nil)
	if err != nil {
		return storage.Actor{}, err
	}
	res, err := in.client.Do(req)
	if err != nil {
		return storage.Actor{}, fmt.Errorf("resolve %s: %w", handle, err)
	}
	defer res.Body.Close()
	var jrd struct {
		Links []struct{ Rel, Type, Href string } `json:"links"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<16)).Decode(&jrd); err != nil || res.StatusCode != http.StatusOK {
		return storage.Actor{}, fmt.Errorf("resolve %s: status %d, %v", handle, res.StatusCode, err)
	}
	for _, l := range jrd.Links {
		if l.Rel == "self" && (l.Type == "application/activity+json" || l.Type == mediaAS) {
			a, err := in.dereference(ctx, l.Href)
			if err != nil {
				return storage.Actor{}, err
			}
			return a, in.webFingerCheck(ctx, a)
		}
	}
	return storage.Actor{}, fmt.Errorf("resolve %s: no ActivityPub self link", handle)
}

func (in *Instance) fetch(ctx context.Context, rawURL string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", mediaAS)
	if err := signature.SignHS2019(req, nil, in.self.KeyID, in.Key(), time.Now()); err != nil {
		return nil, err
	}
	res, err := in.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", res.StatusCode, truncate(string(b), 200))
	}
	return b, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
