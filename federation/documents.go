package federation

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// documents keeps the serialised JSON of the documents peers fetch most,
// a community's Group actor and its outbox's collection and first page,
// so that such a GET costs one small read of the database instead of a
// render with streams, json.Marshal, a read of the community's row and a
// count of its outbox (1–2 ms of CPU for an outbox of 100,000 activities;
// issue 13's read path, BM-4).
//
// Nothing is invalidated. Each document is stamped with the version of
// the community it was rendered at (storage.CommunityVersion), and a GET
// serves it only when the version it has just read is the same: the Group
// actor goes with the community's row, the outbox with the row and its
// newest listed activity. The database changes them in the transaction of
// every write that changes what the documents show (storage migration
// 0022), so on SQLite a change is seen by the next GET that starts after
// its commit, whoever made it: this process, a command run beside it, or
// another process on the same database. On PostgreSQL, where two
// processes may commit outbox activities out of the order of their ids
// (see storage.CommunityVersion), one is seen at most maxAge later: a
// document is rendered again after maxAge whatever its stamp.
//
// A GET reads the version before it renders, so what it renders is never
// older than its stamp; when a change commits in between, the document is
// newer than its stamp, and the next GET, reading the new version,
// renders it again.
type documents struct {
	now func() time.Time
	max int

	mu   sync.RWMutex
	docs map[documentKey]document // mu guards docs
}

// maxDocuments bounds the documents kept: three per community for the
// 300 busiest of them, ~4 MB (an actor is ~2.5 kB, an outbox page of
// 50 activities ~5 kB).
const maxDocuments = 1024

// maxAge is how long a document is served without being rendered again
// while its stamp holds.
const maxAge = 2 * time.Second

type documentKey struct {
	community string
	name      string // "actor", "outbox?page=0" (the collection), "outbox?page=1"
}

type document struct {
	stamp    storage.CommunityVersion
	body     []byte
	rendered time.Time
}

func newDocuments(now func() time.Time, max int) *documents {
	return &documents{now: now, max: max, docs: map[documentKey]document{}}
}

// actorStamp is what a community's Group actor is rendered from: its row.
func actorStamp(v storage.CommunityVersion) storage.CommunityVersion {
	v.NewestListed = 0
	return v
}

// outboxStamp is what a community's outbox is rendered from: what it
// lists, whose removals change the row's version.
func outboxStamp(v storage.CommunityVersion) storage.CommunityVersion { return v }

// body returns the document key stamped stamp, rendering and keeping it
// when there is none, it has another stamp or it is older than maxAge.
// Of the GETs that find it too old, the first renders it again and the
// others serve it meanwhile, rather than all rendering at once.
func (d *documents) body(key documentKey, stamp storage.CommunityVersion, render func() ([]byte, error)) ([]byte, error) {
	now := d.now()
	d.mu.RLock()
	doc, ok := d.docs[key]
	d.mu.RUnlock()
	if ok && doc.stamp == stamp && now.Sub(doc.rendered) < maxAge {
		return doc.body, nil
	}
	if ok && doc.stamp == stamp {
		d.mu.Lock()
		doc, ok = d.docs[key]
		fresh := ok && doc.stamp == stamp && now.Sub(doc.rendered) < maxAge
		if ok && doc.stamp == stamp && !fresh {
			// This GET renders it again; meanwhile the others find it
			// fresh.
			doc.rendered = now
			d.docs[key] = doc
		}
		d.mu.Unlock()
		if fresh {
			return doc.body, nil
		}
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
	d.docs[key] = document{stamp: stamp, body: b, rendered: now}
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
