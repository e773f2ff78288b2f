package federation

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/coppice-dev/coppice/storage"
)

// documents keeps the serialised JSON of the documents peers fetch most,
// a community's Group actor and its outbox's collection and first page,
// so that such a GET costs one small read of the community's row instead
// of a render with streams, json.Marshal, a read of the whole row and a
// count of the outbox (1–2 ms of CPU on an outbox of 100,000 activities;
// issue 13's read path, BM-4).
//
// Nothing is ever invalidated. Each document is stamped with the versions
// of the community it was rendered at (storage.CommunityVersion), and a
// GET serves it only when the versions it has just read are the same: the
// Group actor is a function of the community's row, so it goes with the
// row's Version; the outbox goes with OutboxVersion. The database changes
// them in the transaction of every write that changes the row or what the
// outbox lists (storage migration 0021), so a change is seen by the next
// GET that starts after its commit, whoever made it: this process, a
// command run beside it, or another process on the same database.
//
// A GET reads the versions before it renders, so what it renders is never
// older than its stamp; when a change commits in between, the document is
// newer than its stamp, and the next GET, reading the new versions,
// renders it again.
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
	name      string // "actor", "outbox?page=0" (the collection), "outbox?page=1"
}

type document struct {
	stamp storage.CommunityVersion
	body  []byte
}

func newDocuments(max int) *documents {
	return &documents{docs: map[documentKey]document{}, max: max}
}

// actorStamp is what a community's Group actor is rendered from: its row.
func actorStamp(v storage.CommunityVersion) storage.CommunityVersion {
	v.OutboxVersion = 0
	return v
}

// outboxStamp is what a community's outbox is rendered from: what it lists.
func outboxStamp(v storage.CommunityVersion) storage.CommunityVersion {
	v.Version = 0
	return v
}

// body returns the document key stamped stamp, rendering and keeping it
// when there is none or it has another stamp.
func (d *documents) body(key documentKey, stamp storage.CommunityVersion, render func() ([]byte, error)) ([]byte, error) {
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
