package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSplitContext: a body that begins with "@context" is cut into the
// context and the rest, and joined back byte for byte; anything else is
// left whole.
func TestSplitContext(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, context string
	}{
		{"string", `{"@context":"https://www.w3.org/ns/activitystreams","type":"Like"}`, `"https://www.w3.org/ns/activitystreams"`},
		{"array", `{"@context":["https://www.w3.org/ns/activitystreams",{"toot":"http://joinmastodon.org/ns#","x":{"@id":"a]b}","@type":"@id"}}],"id":"x"}`,
			`["https://www.w3.org/ns/activitystreams",{"toot":"http://joinmastodon.org/ns#","x":{"@id":"a]b}","@type":"@id"}}]`},
		{"escaped quote", `{"@context":["a\"],{b",{"c":"\\"}],"type":"Note"}`, `["a\"],{b",{"c":"\\"}]`},
		{"object", `{"@context":{"@vocab":"https://www.w3.org/ns/activitystreams#"},"type":"Note"}`, `{"@vocab":"https://www.w3.org/ns/activitystreams#"}`},
	} {
		value, rest, ok := splitContext([]byte(tc.body))
		if !ok || string(value) != tc.context {
			t.Errorf("%s: context %q, %v; want %q", tc.name, value, ok, tc.context)
			continue
		}
		if rest[0] != '{' || bytes.Contains(rest, []byte("@context")) {
			t.Errorf("%s: rest %q", tc.name, rest)
		}
		if got := joinContext(string(value), string(rest)); string(got) != tc.body {
			t.Errorf("%s: joined %q, want %q", tc.name, got, tc.body)
		}
	}
	for _, body := range []string{
		`{}`, `{"type":"Like","@context":"https://www.w3.org/ns/activitystreams"}`, // not first
		`{ "@context":"x","type":"Like"}`, // not our serialization
		`{"@context":"x"}`,                // nothing after it
		`{"@context":["unterminated","type":"Like"}`, `{"@context":"unterminated`, `{"@context":]`,
		`{"@context":null,"type":"Like"}`, `{"@context":1,"type":"Like"}`,
		`{"@context":"x"  ,"type":"Like"}`, `not json`, ``,
	} {
		if value, rest, ok := splitContext([]byte(body)); ok {
			t.Errorf("%q was split into %q and %q, want it whole", body, value, rest)
		}
	}
}

// announceBody is an Announce as federation renders it (its context as
// of stop 25).
const announceBody = `{"@context":["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1",{"Hashtag":"as:Hashtag","contributor":{"@id":"http://purl.org/dc/terms/contributor","@type":"@id"},"toot":"http://joinmastodon.org/ns#","sensitive":"as:sensitive"}],` +
	`"actor":"https://coppice.example/c/orchard","id":"https://coppice.example/c/orchard/activities/%d","object":"https://remote.example/notes/1","to":"https://www.w3.org/ns/activitystreams#Public","type":"Announce"}`

// TestOutboxKeepsContextsOnce: activities that share a context store it
// once, read back byte for byte, from a Store that has not seen it too;
// the stored rows lack it.
func TestOutboxKeepsContextsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "contexts.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	bodies := [][]byte{
		[]byte(fmtBody(1)), []byte(fmtBody(2)),
		[]byte(`{"type":"Announce","id":"https://coppice.example/c/orchard/activities/3"}`), // no context: whole
	}
	var ids []int64
	for i, b := range bodies {
		err := st.InTx(ctx, func(tx *Tx) error {
			id, err := tx.CreateOutboxActivity(ctx, OutboxActivity{IRI: iriOf(i), Type: "Announce", KeyID: "k", Body: b, CreatedAt: time.Unix(1, 0)})
			ids = append(ids, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(st *Store, when string) {
		t.Helper()
		for i, id := range ids {
			a, err := st.OutboxActivityByID(ctx, id)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if !bytes.Equal(a.Body, bodies[i]) {
				t.Errorf("%s: activity %d reads\n%s\nwant\n%s", when, i, a.Body, bodies[i])
			}
			b, err := st.OutboxActivityByIRI(ctx, iriOf(i))
			if err != nil || !bytes.Equal(b.Body, bodies[i]) {
				t.Errorf("%s: activity %d by IRI reads %s, %v", when, i, b.Body, err)
			}
		}
	}
	check(st, "written")
	var contexts, stored int
	if err := st.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM json_contexts`).Scan(&contexts); err != nil {
		t.Fatal(err)
	}
	if err := st.read.QueryRowContext(ctx, `SELECT SUM(LENGTH(body)) FROM outbox_activities`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if contexts != 1 {
		t.Errorf("%d contexts stored, want 1", contexts)
	}
	value, _, _ := splitContext(bodies[0])
	if total := len(bodies[0]) + len(bodies[1]) + len(bodies[2]); stored > total-2*len(value) {
		t.Errorf("the outbox stores %d bytes of bodies of %d: the contexts are in it", stored, total)
	}
	st.Close()
	st, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	check(st, "reopened")
}

func fmtBody(n int) string {
	return string(bytes.Replace([]byte(announceBody), []byte("%d"), []byte{byte('0' + n)}, 1))
}

func iriOf(i int) string {
	return "https://coppice.example/c/orchard/activities/" + string(rune('0'+i+1))
}

// TestContextOfAnUndoneCallIsNotKnown: a call that stored a context and
// then failed took the context back with it; the next call that needs the
// context stores it again, and its activity reads back (the Store must
// not believe the context committed).
func TestContextOfAnUndoneCallIsNotKnown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openForCommit(t)
	failed := errors.New("failed after the outbox write")
	err := st.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.CreateOutboxActivity(ctx, OutboxActivity{IRI: iriOf(0), Type: "Announce", KeyID: "k", Body: []byte(fmtBody(1)), CreatedAt: time.Unix(1, 0)}); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("InTx: %v, want the function's error", err)
	}
	var id int64
	err = st.InTx(ctx, func(tx *Tx) error {
		var err error
		id, err = tx.CreateOutboxActivity(ctx, OutboxActivity{IRI: iriOf(1), Type: "Announce", KeyID: "k", Body: []byte(fmtBody(2)), CreatedAt: time.Unix(1, 0)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.OutboxActivityByID(ctx, id)
	if err != nil || string(a.Body) != fmtBody(2) {
		t.Fatalf("after an undone call: %s, %v", a.Body, err)
	}
	// Another process, or this one restarted, knows only the database.
	var n int
	if err := st.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM json_contexts`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d contexts stored (%v), want 1", n, err)
	}
}

// TestContextOfAnotherValueUnderItsID: were two contexts to share an id
// (63 bits of SHA-256), the second's bodies are stored whole and read back
// as written.
func TestContextOfAnotherValueUnderItsID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openForCommit(t)
	value, _, _ := splitContext([]byte(fmtBody(1)))
	if _, err := st.write.ExecContext(ctx, insertContextQuery, contextID(value), `"https://another.example/context"`); err != nil {
		t.Fatal(err)
	}
	var id int64
	err := st.InTx(ctx, func(tx *Tx) error {
		var err error
		id, err = tx.CreateOutboxActivity(ctx, OutboxActivity{IRI: iriOf(0), Type: "Announce", KeyID: "k", Body: []byte(fmtBody(1)), CreatedAt: time.Unix(1, 0)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var contextID int64
	if err := st.read.QueryRowContext(ctx, `SELECT context_id FROM outbox_activities WHERE id = ?`, id).Scan(&contextID); err != nil {
		t.Fatal(err)
	}
	a, err := st.OutboxActivityByID(ctx, id)
	if err != nil || string(a.Body) != fmtBody(1) || contextID != 0 {
		t.Errorf("read %s (context %d), %v; want the body whole", a.Body, contextID, err)
	}
}

// TestWithdrawnBoostKeepsItsContext: WithdrawAnnounces returns a boost's
// body whole (Undo{Announce} embeds it) and empties the others.
func TestWithdrawnBoostKeepsItsContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openForCommit(t)
	c, err := st.CreateCommunity(ctx, Community{Name: "orchard", Title: "Orchard", JoinMode: "open", PostingPolicy: "anyone", PrivateKeyPEM: "k", PublicKeyPEM: "k", CreatedAt: time.Unix(1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	object := "https://remote.example/notes/1"
	err = st.InTx(ctx, func(tx *Tx) error {
		for i, boost := range []bool{true, false} {
			if _, err := tx.CreateOutboxActivity(ctx, OutboxActivity{IRI: iriOf(i), CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte(fmtBody(i + 1)),
				CreatedAt: time.Unix(1, 0), ObjectIRI: object, Boost: boost}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []OutboxActivity
	err = st.InTx(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.WithdrawAnnounces(ctx, c.ID, object, 0, time.Unix(2, 0))
		return err
	})
	if err != nil || len(out) != 2 {
		t.Fatalf("withdrawn: %d, %v", len(out), err)
	}
	for _, a := range out {
		want := ""
		if a.Boost {
			want = fmtBody(1)
		}
		if string(a.Body) != want {
			t.Errorf("withdrawn (boost %v): body %q, want %q", a.Boost, a.Body, want)
		}
	}
}

// TestRenderedAnnounceSplits: an Announce Coppice rendered (testdata)
// splits, and its context is as large as a row of its own (more than a
// quarter of a 4 KB page), which is why it is stored once.
func TestRenderedAnnounceSplits(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile(filepath.Join("testdata", "announce-activity.json"))
	if err != nil {
		t.Fatal(err)
	}
	body = bytes.TrimSpace(body)
	value, rest, ok := splitContext(body)
	if !ok {
		t.Fatal("the rendered Announce does not begin with its context")
	}
	if bytes.Contains(rest, []byte("@context")) || len(value) < 1024 {
		t.Errorf("an Announce of %d bytes: context %d, rest %d with @context %v", len(body), len(value), len(rest), bytes.Contains(rest, []byte("@context")))
	}
	if string(joinContext(string(value), string(rest))) != string(body) {
		t.Error("joined back differently")
	}
}

// TestInboxKeepsContextsOnce: the raw log of a peer's activities keeps a
// context once for all the activities that carry it (Mastodon's, from a
// real Create, compacted as it is sent) and reads each back as it came.
func TestInboxKeepsContextsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openForCommit(t)
	pretty, err := os.ReadFile(filepath.Join("testdata", "mastodon-create-note.json"))
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, pretty); err != nil {
		t.Fatal(err)
	}
	first := compact.Bytes()
	const id = "https://mastodon.madrid/users/felix/statuses/107224289116410645/activity"
	if !bytes.Contains(first, []byte(id)) {
		t.Fatal("fixture changed")
	}
	second := bytes.ReplaceAll(first, []byte(id), []byte(id+"2"))
	raws := map[string][]byte{id: first, id + "2": second}
	for iri, raw := range raws {
		err := st.InTx(ctx, func(tx *Tx) error {
			_, err := tx.RecordInboxActivity(ctx, InboxActivity{IRI: iri, Type: "Create", ActorIRI: "https://mastodon.madrid/users/felix", Raw: raw, ReceivedAt: time.Unix(1, 0)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for iri, raw := range raws {
		a, err := st.InboxActivityByIRI(ctx, iri)
		if err != nil || !bytes.Equal(a.Raw, raw) {
			t.Errorf("%s reads\n%s (%v)\nwant\n%s", iri, a.Raw, err, raw)
		}
	}
	var contexts, stored int
	if err := st.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM json_contexts`).Scan(&contexts); err != nil {
		t.Fatal(err)
	}
	if err := st.read.QueryRowContext(ctx, `SELECT SUM(LENGTH(raw)) FROM inbox_activities`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	// What is stored is each activity less `"@context":…,`.
	value, _, _ := splitContext(first)
	want := len(first) + len(second) - 2*(len(`"@context":,`)+len(value))
	if contexts != 1 || stored != want {
		t.Errorf("%d contexts, %d bytes of raw stored; want 1 and %d", contexts, stored, want)
	}
}

// FuzzSplitContext: whatever a peer sends (the raw log splits every body
// it keeps), splitting never panics, a body that splits joins back byte
// for byte, and the context cut from valid JSON is one whole JSON value.
func FuzzSplitContext(f *testing.F) {
	for _, s := range []string{
		`{"@context":"https://www.w3.org/ns/activitystreams","type":"Like"}`,
		`{"@context":["a\"],{b",{"c":"\\"}],"type":"Note"}`,
		`{"@context":[[[[`, `{"@context":"\`, `{"@context":]]],"x":1}`, `{"@context":{}}`, `{"@context":"",}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		value, rest, ok := splitContext(body)
		if !ok {
			return
		}
		if json.Valid(body) && !json.Valid(value) {
			t.Fatalf("context %q of %q is not one JSON value", value, body)
		}
		if got := joinContext(string(value), string(rest)); !bytes.Equal(got, body) {
			t.Fatalf("%q joined back as %q", body, got)
		}
	})
}
