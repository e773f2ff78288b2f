package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// An Announce of an activity stores a reference, not a copy (issue 13).
// Announce{activity} (FEP-1b12) embeds the member's activity, which the
// raw log (inbox_activities) keeps too: with Mastodon's posts that is
// some 2.3 KB, more than half an SQLite page, so the copy took a page of
// its own for every post. When the stored body (context cut, see
// jsoncontext.go) contains the raw log's stored JSON of the activity
// named by OutboxActivity.Embeds, byte for byte, the outbox row keeps the
// body without it, the raw log's row id (embed_id) and where it goes
// (embed_at); a read puts it back. Anything else (an activity edited
// before it was announced, JSON a peer did not send compact) is stored
// whole.
//
// When the raw log forgets the activity's text (the post was edited or
// deleted: post.go), the Announce names the activity by its IRI instead
// of embedding it, which is also what Announce{activity} means to a
// group server: the old text is then kept nowhere.

const embeddedQuery = `SELECT id, raw FROM inbox_activities WHERE iri = ?`

// recordedActivity is a row the Tx wrote to the raw log: its IRI, id and
// stored JSON.
type recordedActivity struct {
	iri string
	id  int64
	raw string
}

// embed cuts the raw log's JSON of the activity iri out of p's body when
// the body contains it.
func (tx *Tx) embed(ctx context.Context, p *packedBody, iri string) error {
	if iri == "" {
		return nil
	}
	id, raw := tx.recorded.id, tx.recorded.raw
	if tx.recorded.iri != iri {
		err := tx.queryRow(ctx, embeddedQuery, iri).Scan(&id, &raw)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // not recorded: nothing to refer to
		}
		if err != nil {
			return fmt.Errorf("look up embedded activity %s: %w", iri, err)
		}
	}
	at := strings.Index(p.body, raw)
	if raw == "" || at < 0 {
		return nil
	}
	p.body = p.body[:at] + p.body[at+len(raw):]
	p.embedID, p.embedAt = id, at
	return nil
}

// spliceEmbedded puts back into stored, at at, the raw log's JSON of the
// embedded activity (raw), or the activity's IRI when the raw log has
// forgotten it. found says whether the raw log's row was there.
func spliceEmbedded(stored string, at int, raw, iri string, found bool) (string, error) {
	if !found || at < 0 || at > len(stored) {
		return "", errors.New("the activity an Announce embeds is missing")
	}
	if raw == "" {
		quoted, _ := json.Marshal(iri)
		raw = string(quoted)
	}
	return stored[:at] + raw + stored[at:], nil
}
