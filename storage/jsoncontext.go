package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// JSON-LD contexts are stored once (issue 13). Every activity we send
// begins with the same "@context" of some 1,200 bytes, two thirds of an
// Announce; stored in each row it took two pages of SQLite per post (a
// row of more than half a page fills one), so at a million posts the
// outbox alone held 8 GB and each post wrote 8 KB of it. The outbox keeps
// instead the activity without its context and the id of the context,
// kept once in json_contexts (migration 0028); so does the raw log of the
// activities peers send (inbox_activities, migration 0029), whose
// contexts are Mastodon's, Lemmy's, … (Mastodon's is some 900 bytes).
// Reads put the context back where it was: the body read is the body
// written, byte for byte.

// contextPrefix is how a body whose context is stored apart begins.
const contextPrefix = `{"@context":`

// packedBody is a body as stored: the context's id (0: none, body is the
// whole activity), the rest, and for an outbox activity the raw log's row
// of the activity it embeds (0: none) and where that goes (embed.go).
type packedBody struct {
	contextID int64
	body      string
	embedID   int64
	embedAt   int
}

// splitContext cuts body, when it begins with contextPrefix, into the
// value of its "@context" and the rest of the object, which begins with
// "{". ok is false when body does not begin so (the body is then stored
// whole).
func splitContext(body []byte) (value, rest []byte, ok bool) {
	if !bytes.HasPrefix(body, []byte(contextPrefix)) {
		return nil, nil, false
	}
	end := jsonValueEnd(body, len(contextPrefix))
	if end < 0 || end >= len(body) || body[end] != ',' {
		return nil, nil, false
	}
	value = body[len(contextPrefix):end]
	rest = make([]byte, 0, len(body)-end)
	rest = append(append(rest, '{'), body[end+1:]...)
	return value, rest, true
}

// joinContext is the inverse of splitContext.
func joinContext(value string, rest string) []byte {
	out := make([]byte, 0, len(contextPrefix)+len(value)+len(rest))
	out = append(append(out, contextPrefix...), value...)
	return append(append(out, ','), rest[1:]...)
}

// jsonValueEnd returns the offset just past the JSON value (a string, an
// array or an object, the forms a context takes) that begins at b[i], or
// -1 when there is none.
func jsonValueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if i >= len(b) {
				return -1
			}
			if depth == 0 {
				return i + 1
			}
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth < 0 {
				return -1
			}
			if depth == 0 {
				return i + 1
			}
		default:
			if depth == 0 {
				return -1 // a number, true, false or null is not a context
			}
		}
	}
	return -1
}

// contextID is the id of a context: the first 63 bits of its SHA-256, so
// every process derives the same id for the same context without asking
// the database.
func contextID(value []byte) int64 {
	sum := sha256.Sum256(value)
	id := int64(binary.BigEndian.Uint64(sum[:8]) >> 1)
	if id == 0 {
		id = 1 // 0 means "no context stored apart"
	}
	return id
}

// maxCachedContexts and maxCachedContextSize bound the contexts a Store
// keeps in memory: ours are a handful (one per version of our
// vocabulary), the peers' a few per kind of server, but a peer could send
// a new one, as large as a body, with every activity.
const (
	maxCachedContexts    = 256
	maxCachedContextSize = 8 << 10
)

// contextCache holds the contexts known to be committed in json_contexts.
type contextCache struct {
	mu     sync.RWMutex
	values map[int64]string
}

func newContextCache() *contextCache { return &contextCache{values: map[int64]string{}} }

func (c *contextCache) get(id int64) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.values[id]
	return v, ok
}

// add records committed contexts.
func (c *contextCache) add(ctxs map[int64]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, v := range ctxs {
		if len(c.values) >= maxCachedContexts {
			return
		}
		if len(v) <= maxCachedContextSize {
			c.values[id] = v
		}
	}
}

const (
	contextByIDQuery   = `SELECT context FROM json_contexts WHERE id = ?`
	insertContextQuery = `INSERT INTO json_contexts (id, context) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`
)

// packBody splits body for storage, writing its context to json_contexts
// in the transaction when it is not there yet. A context whose id is
// taken by another context (a collision of 63 bits of SHA-256) leaves the
// body whole.
func (tx *Tx) packBody(ctx context.Context, body []byte) (packedBody, error) {
	value, rest, ok := splitContext(body)
	if !ok {
		return packedBody{body: string(body)}, nil
	}
	id := contextID(value)
	stored, ok := tx.contexts.get(id)
	if !ok {
		stored, ok = tx.added[id]
	}
	if !ok {
		err := tx.tx.QueryRowContext(ctx, contextByIDQuery, id).Scan(&stored)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// Another process may store the same context at this moment
			// (PostgreSQL): then its row stands, and this body is stored
			// whole rather than refer to a row this Tx cannot see.
			res, err := tx.exec(ctx, insertContextQuery, id, string(value))
			if err != nil {
				return packedBody{}, fmt.Errorf("store context: %w", mapError(err))
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return packedBody{body: string(body)}, nil
			}
			stored = string(value)
		case err != nil:
			return packedBody{}, fmt.Errorf("look up context: %w", err)
		}
		if tx.added == nil {
			tx.added = map[int64]string{}
		}
		tx.added[id] = stored
	}
	if stored != string(value) {
		return packedBody{body: string(body)}, nil
	}
	return packedBody{contextID: id, body: string(rest)}, nil
}

// unpackBody returns the body that was packed into contextID and stored,
// reading the context from committed rows (and keeping it). An emptied
// body (a withdrawn activity's) stays empty.
func (s *Store) unpackBody(ctx context.Context, contextID int64, stored string) ([]byte, error) {
	if contextID == 0 || stored == "" {
		return []byte(stored), nil
	}
	value, ok := s.contexts.get(contextID)
	if !ok {
		if err := s.readRow(ctx, contextByIDQuery, contextID).Scan(&value); err != nil {
			return nil, contextError(contextID, err)
		}
		s.contexts.add(map[int64]string{contextID: value})
	}
	return joinStored(contextID, value, stored)
}

// unpackBody is Store.unpackBody inside a transaction, which may have
// written the context itself: what it reads is not kept, as the
// transaction may yet be undone.
func (tx *Tx) unpackBody(ctx context.Context, contextID int64, stored string) ([]byte, error) {
	if contextID == 0 || stored == "" {
		return []byte(stored), nil
	}
	value, ok := tx.contexts.get(contextID)
	if !ok {
		if value, ok = tx.added[contextID]; !ok {
			if err := tx.tx.QueryRowContext(ctx, contextByIDQuery, contextID).Scan(&value); err != nil {
				return nil, contextError(contextID, err)
			}
		}
	}
	return joinStored(contextID, value, stored)
}

func contextError(id int64, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("context %d of a stored activity is missing", id)
	}
	return fmt.Errorf("look up context %d: %w", id, err)
}

func joinStored(id int64, value, stored string) ([]byte, error) {
	if stored[0] != '{' {
		return nil, fmt.Errorf("stored activity with context %d does not begin with {", id)
	}
	return joinContext(value, stored), nil
}
