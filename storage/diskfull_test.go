package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFLT10DiskFull: when the database file cannot grow (SQLite's
// max_page_count, as a full disk), a write fails with ErrBusy (which the
// HTTP doors answer 503), leaves nothing half-written, and does not take
// the calls sharing its batch down with it when they fit; once there is
// room again, writes go on without a restart.
func TestFLT10DiskFull(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.CreateCommunity(ctx, Community{Name: "seeds", Title: "Seeds", JoinMode: "open", PostingPolicy: "anyone",
		PrivateKeyPEM: "k", PublicKeyPEM: "k", CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := st.write.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// The writer pool has one connection: the limit holds for every write.
	if _, err := st.write.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+2)); err != nil {
		t.Fatal(err)
	}
	post := func(tx *Tx, i int, size int) error {
		iri := fmt.Sprintf("https://remote.example/notes/%d", i)
		th, err := tx.CreateThread(ctx, Thread{CommunityID: c.ID, RootIRI: iri, Title: "t", AuthorIRI: "https://remote.example/users/a", CreatedAt: time.Now()})
		if err != nil {
			return err
		}
		_, err = tx.CreatePost(ctx, Post{IRI: iri, ThreadID: th.ID, CommunityID: c.ID, Type: "Note", AuthorIRI: th.AuthorIRI,
			Content: strings.Repeat("seed ", size/5), Published: time.Now(), Raw: []byte("{}")})
		return err
	}
	before, err := st.RowCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = st.InTx(ctx, func(tx *Tx) error { return post(tx, 1, 1<<20) })
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("a 1 MB post into a full database: %v, want ErrBusy", err)
	}
	after, err := st.RowCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("rows %v after the failed write, %v before", after, before)
	}
	// A small write and a big one at once: the big one fails alone or
	// both fail; nothing of the big one is kept either way.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, size := range []int{100, 1 << 20} {
		wg.Go(func() { errs[i] = st.InTx(ctx, func(tx *Tx) error { return post(tx, 10+i, size) }) })
	}
	wg.Wait()
	if !errors.Is(errs[1], ErrBusy) {
		t.Errorf("the big write beside a small one: %v, want ErrBusy", errs[1])
	}
	if _, err := st.PostByIRI(ctx, "https://remote.example/notes/11"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the failed big post is stored (%v)", err)
	}
	if errs[0] == nil {
		if _, err := st.PostByIRI(ctx, "https://remote.example/notes/10"); err != nil {
			t.Errorf("the small post was answered nil but is not stored: %v", err)
		}
	}
	// Room again: writes go on, without reopening the store.
	if _, err := st.write.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if err := st.InTx(ctx, func(tx *Tx) error { return post(tx, 2, 1<<20) }); err != nil {
		t.Fatalf("a write once there is room: %v", err)
	}
	if _, err := st.PostByIRI(ctx, "https://remote.example/notes/2"); err != nil {
		t.Error(err)
	}
}
