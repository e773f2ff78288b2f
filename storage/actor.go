package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/hostname"
)

// Actor is a remote actor as we last fetched it: what delivery and
// signature checks need, and the raw document for audit.
type Actor struct {
	IRI               string
	Type              string
	Host              string // host[:port] of IRI, lower case
	PreferredUsername string
	Name              string
	Inbox             string
	SharedInbox       string
	KeyID             string
	PublicKeyPEM      string
	Raw               []byte
	FetchedAt         time.Time
	ExpiresAt         time.Time
}

// DeliveryInbox is where fan-out to this actor goes: its shared inbox when
// it has one, so one request reaches every follower on a host.
func (a Actor) DeliveryInbox() string {
	if a.SharedInbox != "" {
		return a.SharedInbox
	}
	return a.Inbox
}

// HostOf returns the normalized host of an inbox URL (internal/hostname),
// the key deliveries are grouped, limited and policed by.
func HostOf(rawURL string) string {
	return hostname.Of(rawURL)
}

const actorColumns = `iri, type, host, preferred_username, name, inbox, shared_inbox, key_id, public_key_pem, raw, fetched_at, expires_at`

func scanActor(row scanner) (Actor, error) {
	var a Actor
	var raw string
	var fetched, expires int64
	err := row.Scan(&a.IRI, &a.Type, &a.Host, &a.PreferredUsername, &a.Name, &a.Inbox, &a.SharedInbox,
		&a.KeyID, &a.PublicKeyPEM, &raw, &fetched, &expires)
	a.Raw, a.FetchedAt, a.ExpiresAt = []byte(raw), fromDB(fetched), fromDB(expires)
	return a, err
}

// upsertActorQuery keeps the stored key when the new copy has none: only
// a fetch of the key id itself replaces a key (see UpsertActor).
const upsertActorQuery = `
	INSERT INTO actors (iri, type, host, preferred_username, name, inbox, shared_inbox,
		delivery_inbox, delivery_host, key_id, public_key_pem, raw, fetched_at, expires_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (iri) DO UPDATE SET
		type = excluded.type, host = excluded.host, preferred_username = excluded.preferred_username,
		name = excluded.name, inbox = excluded.inbox, shared_inbox = excluded.shared_inbox,
		delivery_inbox = excluded.delivery_inbox, delivery_host = excluded.delivery_host,
		key_id = CASE WHEN excluded.key_id != '' THEN excluded.key_id ELSE actors.key_id END,
		public_key_pem = CASE WHEN excluded.key_id != '' THEN excluded.public_key_pem ELSE actors.public_key_pem END,
		raw = excluded.raw, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at`

// disownKeyQuery takes a key id from every other actor that holds it.
const disownKeyQuery = `UPDATE actors SET key_id = '', public_key_pem = '' WHERE key_id = ? AND key_id != '' AND iri != ?`

// UpsertActor stores a remote actor, replacing the old copy. Its key
// (KeyID and PublicKeyPEM) is stored only when KeyID is set; then the
// caller vouches that the key id's own document names a as its owner
// (federation.Keys fetched it), and any other actor that held that key id
// loses it in the same transaction: a key id has one owner (SIG-20). With
// an empty KeyID the stored key stays as it was.
func (s *Store) UpsertActor(ctx context.Context, a Actor) error {
	di := a.DeliveryInbox()
	err := s.InTx(ctx, func(tx *Tx) error {
		if a.KeyID != "" {
			if _, err := tx.tx.ExecContext(ctx, disownKeyQuery, a.KeyID, a.IRI); err != nil {
				return err
			}
		}
		_, err := tx.tx.ExecContext(ctx, upsertActorQuery, a.IRI, a.Type, a.Host, a.PreferredUsername, a.Name,
			a.Inbox, a.SharedInbox, di, HostOf(di), a.KeyID, a.PublicKeyPEM, string(a.Raw), toDB(a.FetchedAt), toDB(a.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("upsert actor %s: %w", a.IRI, mapError(err))
	}
	return nil
}

const actorByIRIQuery = `SELECT ` + actorColumns + ` FROM actors WHERE iri = ?`

// ActorByIRI returns the cached actor, expired or not, or ErrNotFound.
func (s *Store) ActorByIRI(ctx context.Context, iri string) (Actor, error) {
	a, err := scanActor(s.read.QueryRowContext(ctx, actorByIRIQuery, iri))
	if errors.Is(err, sql.ErrNoRows) {
		return Actor{}, ErrNotFound
	}
	if err != nil {
		return Actor{}, fmt.Errorf("actor %s: %w", iri, err)
	}
	return a, nil
}

// actorByKeyIDQuery repeats the condition of the partial index
// actors_key_id (key ids that are not empty): SQLite uses a partial index
// only when the query implies its condition, which "key_id = ?" alone
// does not. Without it every inbox request scanned the actors table
// (issue 13).
const actorByKeyIDQuery = `SELECT ` + actorColumns + ` FROM actors WHERE key_id = ? AND key_id != ''`

// ActorByKeyID returns the cached actor that owns keyID, or ErrNotFound.
func (s *Store) ActorByKeyID(ctx context.Context, keyID string) (Actor, error) {
	a, err := scanActor(s.readRow(ctx, actorByKeyIDQuery, keyID))
	if errors.Is(err, sql.ErrNoRows) {
		return Actor{}, ErrNotFound
	}
	if err != nil {
		return Actor{}, fmt.Errorf("actor with key %s: %w", keyID, err)
	}
	return a, nil
}

const actorByHandleQuery = `SELECT ` + actorColumns + ` FROM actors WHERE preferred_username = ? AND host = ? ORDER BY fetched_at DESC LIMIT 1`

// ActorByHandle returns the cached actor known as @username@host, or
// ErrNotFound.
func (s *Store) ActorByHandle(ctx context.Context, username, host string) (Actor, error) {
	a, err := scanActor(s.read.QueryRowContext(ctx, actorByHandleQuery, username, strings.ToLower(host)))
	if errors.Is(err, sql.ErrNoRows) {
		return Actor{}, ErrNotFound
	}
	if err != nil {
		return Actor{}, fmt.Errorf("actor @%s@%s: %w", username, host, err)
	}
	return a, nil
}

// ActorsByIRI returns the cached actors among iris, by IRI.
func (s *Store) ActorsByIRI(ctx context.Context, iris []string) (map[string]Actor, error) {
	out := map[string]Actor{}
	if len(iris) == 0 {
		return out, nil
	}
	list, err := json.Marshal(iris)
	if err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+actorColumns+` FROM actors WHERE iri IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, fmt.Errorf("actors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanActor(rows)
		if err != nil {
			return nil, fmt.Errorf("actors: %w", err)
		}
		out[a.IRI] = a
	}
	return out, rows.Err()
}
