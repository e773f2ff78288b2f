package federation

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coppice-dev/coppice/federation/fetch"
	"github.com/coppice-dev/coppice/internal/hostname"
	"github.com/coppice-dev/coppice/internal/keypair"
	"github.com/coppice-dev/coppice/storage"
)

// Cache lifetimes of remote actors and their keys.
const (
	actorTTL       = 24 * time.Hour
	refetchEvery   = time.Minute // at most one forced refetch per key id per minute (SIG-15)
	maxRefetchSeen = 10_000
)

// Keys finds the actor that owns a key id: from the cache of actors in the
// store while it is fresh, otherwise by fetching the key id's document.
type Keys struct {
	store   *storage.Store
	fetcher *fetch.Fetcher
	now     func() time.Time
	log     *slog.Logger

	limits *keyFetchLimits

	mu        sync.Mutex
	refetched map[string]time.Time // mu guards refetched

	parsed parsedKeys

	hits, fetches, fetchErrors, staleUsed atomic.Int64
}

// KeyStats counts what a Keys did since it was made.
type KeyStats struct {
	CacheHits   int64 // lookups answered from a fresh cache entry
	Fetches     int64 // actor documents fetched for a key, successful or not
	FetchErrors int64 // fetches that failed
	StaleUsed   int64 // lookups answered from an expired entry: the host was down
}

// Stats returns the counters of k.
func (k *Keys) Stats() KeyStats {
	return KeyStats{CacheHits: k.hits.Load(), Fetches: k.fetches.Load(), FetchErrors: k.fetchErrors.Load(), StaleUsed: k.staleUsed.Load()}
}

// NewKeys returns a key finder over store that fetches with fetcher.
func NewKeys(store *storage.Store, fetcher *fetch.Fetcher, now func() time.Time, log *slog.Logger) *Keys {
	return &Keys{store: store, fetcher: fetcher, now: now, log: log, limits: newKeyFetchLimits(), refetched: map[string]time.Time{}}
}

// Actor returns the actor that owns keyID. With refresh it ignores the
// cache (key rotation), at most once per key id per minute. fetched says
// the actor was fetched just now and is not stored yet: the caller stores
// it with Remember once its key has verified a request (SIG-21).
func (k *Keys) Actor(ctx context.Context, keyID string, refresh bool) (a storage.Actor, fetched bool, err error) {
	var stale *storage.Actor
	if !refresh {
		a, err := k.store.ActorByKeyID(ctx, keyID)
		if err == nil && a.ExpiresAt.After(k.now()) {
			k.hits.Add(1)
			return a, false, nil
		}
		if err == nil {
			stale = &a
		} else if !errors.Is(err, storage.ErrNotFound) {
			return storage.Actor{}, false, err
		}
	} else if !k.mayRefetch(keyID) {
		return storage.Actor{}, false, unverified(errors.New("the key was refetched less than a minute ago"))
	}
	a, err = k.fetchKey(ctx, keyID)
	var rej *RejectError
	if stale != nil && errors.As(err, &rej) && (rej.Status == http.StatusServiceUnavailable || rej.Status == http.StatusTooManyRequests) {
		// The key's host is down (or over its fetch budget) but we know
		// its key from before: use the stale copy rather than make the peer
		// retry; a wrong signature still fails, and the next request
		// refreshes the cache.
		k.staleUsed.Add(1)
		return *stale, false, nil
	}
	return a, err == nil, err
}

// fetchKey fetches the actor that owns keyID, within the key host's fetch
// budget (RAT-04), and remembers failures for a while so that they cost
// no second request (RAT-05).
func (k *Keys) fetchKey(ctx context.Context, keyID string) (storage.Actor, error) {
	host, now := hostname.Of(keyID), k.now()
	switch why, wait := k.limits.take(keyID, host, now); why {
	case keyFailedBefore:
		return storage.Actor{}, unverified(errors.New("the key id failed to fetch a moment ago"))
	case hostDownBefore:
		return storage.Actor{}, keyHostDown(wait, errors.New("the key's host failed to answer a moment ago"))
	case hostOverBudget:
		return storage.Actor{}, &RejectError{Status: http.StatusTooManyRequests, Reason: "too many new keys from this host, retry later", RetryAfter: wait}
	}
	done, ok := k.limits.start(host)
	if !ok {
		return storage.Actor{}, keyHostDown(10*time.Second, errors.New("too many key fetches to the key's host under way"))
	}
	defer done()
	ctx, cancel := context.WithTimeout(ctx, keyFetchTimeout)
	defer cancel()
	a, err := k.fetchActor(ctx, strings.SplitN(keyID, "#", 2)[0], keyID)
	var rej *RejectError
	switch {
	case errors.As(err, &rej) && rej.Status == http.StatusServiceUnavailable:
		k.limits.down(host, now)
	case errors.As(err, &rej) && rej.Status == http.StatusUnauthorized:
		k.limits.failed(keyID, now)
	}
	return a, err
}

// unverified is the one answer to a signature we could not verify, for
// whatever reason: the peer learns nothing of what our key fetch found
// (SIG-22); cause goes to our log.
func unverified(cause error) *RejectError {
	return &RejectError{Status: http.StatusUnauthorized, Reason: "signature not verified", Cause: cause}
}

// keyHostDown answers 503 when the key's host cannot be reached now
// (FLT-16), so that the sender retries; cause goes to our log.
func keyHostDown(retryAfter time.Duration, cause error) *RejectError {
	return &RejectError{Status: http.StatusServiceUnavailable, Reason: "cannot verify the signature now, retry later", Cause: cause,
		RetryAfter: max(retryAfter, time.Second)}
}

// Remember stores an actor returned by Actor with fetched set, after its
// key verified a request. The key id's own document named it as the key's
// owner, so it takes the key id from whoever held it before (SIG-20).
func (k *Keys) Remember(ctx context.Context, a storage.Actor) error {
	return k.store.UpsertActor(ctx, a)
}

// ActorByIRI returns the actor with that id, from the cache while fresh,
// else fetched and stored. A fetched actor document is not its key's own
// document unless the key id is the document's URL with a fragment: only
// then is its key stored (SIG-20; a GoToSocial key id such as
// IRI/main-key is learnt by fetching the key id itself, in Actor).
func (k *Keys) ActorByIRI(ctx context.Context, iri string) (storage.Actor, error) {
	a, err := k.store.ActorByIRI(ctx, iri)
	if err == nil && a.ExpiresAt.After(k.now()) {
		k.hits.Add(1)
		return a, nil
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.Actor{}, err
	}
	a, err = k.fetchActor(ctx, iri, "")
	if err != nil {
		return storage.Actor{}, err
	}
	if strings.SplitN(a.KeyID, "#", 2)[0] != a.IRI {
		a.KeyID, a.PublicKeyPEM = "", ""
	}
	if err := k.store.UpsertActor(ctx, a); err != nil {
		return storage.Actor{}, err
	}
	return k.store.ActorByIRI(ctx, iri)
}

func (k *Keys) mayRefetch(keyID string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if t, ok := k.refetched[keyID]; ok && now.Sub(t) < refetchEvery {
		return false
	}
	if len(k.refetched) >= maxRefetchSeen {
		clear(k.refetched)
	}
	k.refetched[keyID] = now
	return true
}

// fetchActor fetches the actor document at rawURL; it does not store it.
// When keyID is set, the actor must own that key (SIG-12, SIG-14).
func (k *Keys) fetchActor(ctx context.Context, rawURL, keyID string) (_ storage.Actor, err error) {
	k.fetches.Add(1)
	defer func() {
		if err != nil {
			k.fetchErrors.Add(1)
		}
	}()
	body, _, err := k.fetcher.Fetch(ctx, rawURL)
	if err != nil {
		var fe *fetch.Error
		if errors.As(err, &fe) && fe.Kind == fetch.KindUnreachable {
			// FLT-16: the sender should retry later rather than drop it.
			return storage.Actor{}, keyHostDown(DownKeyHostTTL, fmt.Errorf("fetch key: %w", err))
		}
		return storage.Actor{}, unverified(fmt.Errorf("fetch key: %w", err))
	}
	a, err := ParseActor(ctx, body)
	if err != nil && keyID != "" {
		// GoToSocial serves its key ids as a minimal Person (id,
		// preferredUsername, publicKey and nothing else) whose id is the
		// actor: the actor itself, with its inbox, must then be fetched
		// from its own URL (PEERS.md).
		if owner, ok := minimalKeyOwner(ctx, body, keyID, rawURL); ok {
			if body, _, err = k.fetcher.Fetch(ctx, owner); err == nil {
				a, err = ParseActor(ctx, body)
				if err == nil && a.IRI != owner {
					err = fmt.Errorf("the document at %s has id %s", truncate(owner, 200), truncate(a.IRI, 200))
				}
			}
		}
	}
	if err != nil {
		return storage.Actor{}, unverified(fmt.Errorf("key document: %w", err))
	}
	if keyID != "" && a.KeyID != keyID {
		return storage.Actor{}, unverified(fmt.Errorf("actor %s does not own key %s", truncate(a.IRI, 200), truncate(keyID, 200)))
	}
	now := k.now()
	a.FetchedAt, a.ExpiresAt = now, now.Add(actorTTL)
	return a, nil
}

// verifyWith checks a signature with the key of actor a.
func (k *Keys) verifyWith(verify func(crypto.PublicKey) error, a storage.Actor) error {
	if a.PublicKeyPEM == "" {
		return errors.New("actor has no key")
	}
	pub, err := k.parsed.get(a.PublicKeyPEM)
	if err != nil {
		return err
	}
	return verify(pub)
}

// parsedKeysSize bounds how many parsed keys a Keys keeps.
const parsedKeysSize = 4096

// parsedKeys keeps public keys parsed from their PEM text, keyed by that
// text: a few keys sign most requests, and parsing one (PEM, then DER)
// cost ~7 µs a request (issue 13). An entry is the text's own parse, so
// it is never stale; when full, the map starts over.
type parsedKeys struct {
	mu   sync.Mutex
	keys map[string]crypto.PublicKey // mu guards keys
}

func (p *parsedKeys) get(pemText string) (crypto.PublicKey, error) {
	p.mu.Lock()
	pub, ok := p.keys[pemText]
	p.mu.Unlock()
	if ok {
		return pub, nil
	}
	pub, err := keypair.ParsePublic(pemText)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keys == nil || len(p.keys) >= parsedKeysSize {
		p.keys = map[string]crypto.PublicKey{}
	}
	p.keys[pemText] = pub
	return pub, nil
}

// Revive clears the unreachable mark of a host that just sent us a valid
// signed request (FLT-06): it is up again, so new deliveries go to it.
func (k *Keys) Revive(ctx context.Context, host string) error {
	return k.store.ReviveHost(ctx, host)
}
