package federation

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/coppice-dev/coppice/storage"
)

// documents keeps the serialised JSON of the documents peers fetch most,
// a community's Group actor and its outbox's collection and first page,
// so that such a GET costs the read of the community's row it makes
// anyway instead of a render with streams, json.Marshal and a count of
// the outbox (1–2 ms of CPU on an outbox of 100,000 activities; issue
// 13's read path, BM-4).
//
// Nothing is ever invalidated. Each document is stamped with the part of
// the community's row it was rendered from, and a GET serves it only when
// that part of the row it has just read is the same:
//   - the Group actor is a function of the row alone, so it is stamped
//     with the whole row (all but OutboxVersion);
//   - the outbox is stamped with the row's OutboxVersion, which the
//     database changes in the transaction of every write to what the
//     outbox lists (storage migration 0021).
//
// So a change is seen by the next GET that starts after its commit,
// whoever made it: this process, a command run beside it, or another
// process on the same database. A GET that reads the row before a change
// and renders after it stores a document newer than its stamp, which the
// next GET, reading the new stamp, renders again; a stored document is
// never older than its stamp.
type documents struct {
	mu   sync.RWMutex
	docs map[documentKey]document // mu guards docs
	max  int
}

// maxDocuments bounds the documents kept: three per community for the
// 300 busiest of them, ~4 MB (an actor is ~2.5 kB, an outbox page of
// 50 activities ~5 kB).
const maxDocuments = 1024

type documentKey struct {
	community string
	name      string // "actor", "outbox", "outbox?page=1"
}

type document struct {
	stamp storage.Community
	body  []byte
}

func newDocuments(max int) *documents {
	return &documents{docs: map[documentKey]document{}, max: max}
}

// actorStamp is what a community's Group actor is rendered from: its row,
// whatever the outbox holds.
func actorStamp(c storage.Community) storage.Community {
	c.OutboxVersion = 0
	return c
}

// outboxStamp is what a community's outbox is rendered from besides its
// name: the listed activities as of OutboxVersion. The ID and creation
// time tell a community from another that took its name.
func outboxStamp(c storage.Community) storage.Community {
	return storage.Community{ID: c.ID, Name: c.Name, CreatedAt: c.CreatedAt, OutboxVersion: c.OutboxVersion}
}

// body returns the document key stamped stamp, rendering and keeping it
// when there is none or it has another stamp.
func (d *documents) body(key documentKey, stamp storage.Community, render func() ([]byte, error)) ([]byte, error) {
	d.mu.RLock()
	doc, ok := d.docs[key]
	d.mu.RUnlock()
	if ok && doc.stamp == stamp {
		return doc.body, nil
	}
	b, err := render()
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.docs[key]; !ok && len(d.docs) >= d.max {
		for k := range d.docs { // any one: Go's map order is unspecified
			delete(d.docs, k)
			break
		}
	}
	d.docs[key] = document{stamp: stamp, body: b}
	return b, nil
}

// writeDocument writes the serialised ActivityStreams document body with
// the media type the request asked for, as writeAS does.
func writeDocument(w http.ResponseWriter, r *http.Request, body []byte) error {
	w.Header().Set("Vary", "Accept")
	w.Header().Set("Content-Type", responseMediaType(r))
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // the peer went away; nothing to do
	return nil
}
