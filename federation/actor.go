package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/coppice-dev/coppice/internal/hostname"
	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// actorTypes are the ActivityStreams actor types we accept from peers.
func isActorType(name string) bool {
	switch name {
	case "Person", "Group", "Service", "Application", "Organization":
		return true
	}
	return false
}

// actorLike is what every streams actor type offers that we read.
type actorLike interface {
	vocab.Type
	GetActivityStreamsInbox() vocab.ActivityStreamsInboxProperty
	GetActivityStreamsPreferredUsername() vocab.ActivityStreamsPreferredUsernameProperty
	GetActivityStreamsName() vocab.ActivityStreamsNameProperty
	GetW3IDSecurityV1PublicKey() vocab.W3IDSecurityV1PublicKeyProperty
}

// ParseActor reads a remote actor document (Person, Group, Service,
// Application or Organization) with streams. The actor must have an http(s)
// id and inbox. Its key is kept only when the key's owner is the actor
// itself; otherwise KeyID and PublicKeyPEM stay empty.
func ParseActor(ctx context.Context, body []byte) (storage.Actor, error) {
	t, err := parseAS(ctx, body)
	if err != nil {
		return storage.Actor{}, err
	}
	return actorFromAS(t, body)
}

// parseAS decodes one JSON object and resolves it with streams. A missing
// @context is tolerated (streams needs one; some peers omit it).
func parseAS(ctx context.Context, body []byte) (vocab.Type, error) {
	m, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	return toType(ctx, m)
}

// decodeObject decodes one JSON object, numbers kept as written.
func decodeObject(body []byte) (map[string]any, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode JSON: trailing data after the object")
	}
	if m == nil {
		return nil, errors.New("decode JSON: not an object")
	}
	return m, nil
}

// toType resolves a decoded JSON object with streams. A missing @context
// is tolerated (streams needs one; some peers omit it, and an object
// embedded in an activity has none): m gets the ActivityStreams one.
func toType(ctx context.Context, m map[string]any) (vocab.Type, error) {
	if _, ok := m["@context"]; !ok {
		m["@context"] = nsAS
	}
	t, err := streams.ToType(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("resolve ActivityStreams type: %w", err)
	}
	return t, nil
}

func actorFromAS(t vocab.Type, raw []byte) (storage.Actor, error) {
	if !isActorType(t.GetTypeName()) {
		return storage.Actor{}, fmt.Errorf("type %s is not an actor", t.GetTypeName())
	}
	a, ok := t.(actorLike)
	if !ok {
		return storage.Actor{}, fmt.Errorf("type %s is not an actor", t.GetTypeName())
	}
	id, err := httpIRI(t.GetJSONLDId())
	if err != nil {
		return storage.Actor{}, fmt.Errorf("actor id: %w", err)
	}
	host, err := hostname.FromURL(id)
	if err != nil {
		return storage.Actor{}, fmt.Errorf("actor id: %w", err)
	}
	out := storage.Actor{IRI: id.String(), Type: t.GetTypeName(), Host: host, Raw: raw}
	if p := a.GetActivityStreamsInbox(); p != nil {
		if u := p.GetIRI(); p.IsIRI() && u != nil {
			out.Inbox = u.String()
		} else if p.IsActivityStreamsOrderedCollection() {
			if u, err := httpIRI(p.GetActivityStreamsOrderedCollection().GetJSONLDId()); err == nil {
				out.Inbox = u.String()
			}
		}
	}
	if out.Inbox == "" {
		return storage.Actor{}, errors.New("actor has no inbox")
	}
	if _, err := checkHTTPURL(out.Inbox); err != nil {
		return storage.Actor{}, fmt.Errorf("actor inbox: %w", err)
	}
	if v, ok := ext(t, termEndpoints, "as:endpoints"); ok {
		if m, ok := v.(map[string]any); ok {
			if s, ok := m[termSharedInbox].(string); ok {
				if _, err := checkHTTPURL(s); err == nil {
					out.SharedInbox = s
				}
			}
		}
	}
	if p := a.GetActivityStreamsPreferredUsername(); p != nil {
		if p.IsXMLSchemaString() {
			out.PreferredUsername = p.GetXMLSchemaString()
		} else if p.IsRDFLangString() {
			out.PreferredUsername = firstLang(p.GetRDFLangString())
		}
	}
	if p := a.GetActivityStreamsName(); p != nil {
		for it := p.Begin(); it != p.End(); it = it.Next() {
			if it.IsXMLSchemaString() {
				out.Name = it.GetXMLSchemaString()
				break
			}
			if it.IsRDFLangString() {
				out.Name = firstLang(it.GetRDFLangString())
				break
			}
		}
	}
	// An actor without a key of its own can still receive deliveries; it
	// just cannot sign anything we would believe (SIG-12).
	if keyID, pem, err := ownedKey(a.GetW3IDSecurityV1PublicKey(), id); err == nil {
		out.KeyID, out.PublicKeyPEM = keyID, pem
	}
	return out, nil
}

// minimalKeyOwner reads a key document that is not a whole actor, such as
// GoToSocial's (a Person with only id, preferredUsername and publicKey,
// served at the key id's URL): it returns the actor it names when that
// actor owns keyID, lives on the key id's origin and is not the document
// we already fetched (at fetchedURL).
func minimalKeyOwner(ctx context.Context, body []byte, keyID, fetchedURL string) (string, bool) {
	t, err := parseAS(ctx, body)
	if err != nil || !isActorType(t.GetTypeName()) {
		return "", false
	}
	a, ok := t.(actorLike)
	if !ok {
		return "", false
	}
	id, err := httpIRI(t.GetJSONLDId())
	if err != nil || id.String() == fetchedURL {
		return "", false
	}
	kid, _, err := ownedKey(a.GetW3IDSecurityV1PublicKey(), id)
	if err != nil || kid != keyID {
		return "", false
	}
	k, err := url.Parse(keyID)
	if err != nil || !sameOrigin(k, id) {
		return "", false
	}
	return id.String(), true
}

// ownedKey returns the first public key whose owner is the actor itself
// (SIG-12: a key owned by someone else does not speak for this actor) and
// whose id is on the actor's own origin (SIG-20: an actor cannot claim the
// key id of an actor on another host).
func ownedKey(p vocab.W3IDSecurityV1PublicKeyProperty, actor *url.URL) (keyID, pem string, err error) {
	if p == nil || p.Len() == 0 {
		return "", "", errors.New("actor has no publicKey")
	}
	for it := p.Begin(); it != p.End(); it = it.Next() {
		if !it.IsW3IDSecurityV1PublicKey() {
			continue
		}
		k := it.Get()
		kid, err := httpIRI(k.GetJSONLDId())
		if err != nil || !sameOrigin(kid, actor) {
			continue
		}
		o := k.GetW3IDSecurityV1Owner()
		if o == nil || !o.IsIRI() || o.GetIRI().String() != actor.String() {
			continue
		}
		pp := k.GetW3IDSecurityV1PublicKeyPem()
		if pp == nil || strings.TrimSpace(pp.Get()) == "" {
			continue
		}
		return kid.String(), pp.Get(), nil
	}
	return "", "", errors.New("actor has no publicKey owned by itself")
}

func firstLang(m map[string]string) string {
	for _, k := range []string{"und", "en"} {
		if v, ok := m[k]; ok {
			return v
		}
	}
	for _, v := range m {
		return v
	}
	return ""
}

// httpIRI returns the IRI of an id property if it is an absolute http(s) URL.
func httpIRI(p vocab.JSONLDIdProperty) (*url.URL, error) {
	if p == nil || p.Get() == nil {
		return nil, errors.New("missing id")
	}
	return checkHTTPURL(p.Get().String())
}

// checkHTTPURL parses s and accepts only absolute http(s) URLs with a host
// that normalizes (internal/hostname) and no user info (FET-04).
func checkHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", truncate(s, 100), err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%q is not an http(s) URL", truncate(s, 100))
	}
	if _, err := hostname.FromURL(u); err != nil {
		return nil, fmt.Errorf("%q: %w", truncate(s, 100), err)
	}
	return u, nil
}
