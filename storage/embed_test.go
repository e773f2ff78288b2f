package storage

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// embedWorld records a member's Create in the raw log and returns the
// store, the Create as sent and an Announce{activity} of it as rendered.
func embedWorld(t *testing.T) (*Store, string, string) {
	t.Helper()
	ctx := context.Background()
	st := openForCommit(t)
	create := `{"@context":["https://www.w3.org/ns/activitystreams",{"ostatus":"http://ostatus.org#"}],"id":"https://m.example/users/a/statuses/1/activity","type":"Create",` +
		`"actor":"https://m.example/users/a","object":{"id":"https://m.example/users/a/statuses/1","type":"Note","content":"<p>graft in spring</p>"}}`
	err := st.InTx(ctx, func(tx *Tx) error {
		_, err := tx.RecordInboxActivity(ctx, InboxActivity{IRI: "https://m.example/users/a/statuses/1/activity", Type: "Create", ActorIRI: "https://m.example/users/a", Raw: []byte(create), ReceivedAt: time.Unix(1, 0)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, inner, _ := splitContext([]byte(create))
	announce := fmtBody(1)
	announce = strings.Replace(announce, `"object":"https://remote.example/notes/1"`, `"object":`+string(inner), 1)
	return st, create, announce
}

func createAnnounce(t *testing.T, st *Store, body, embeds string) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := st.InTx(ctx, func(tx *Tx) error {
		var err error
		id, err = tx.CreateOutboxActivity(ctx, OutboxActivity{IRI: "https://coppice.example/c/orchard/activities/1", Type: "Announce", KeyID: "k",
			Body: []byte(body), CreatedAt: time.Unix(1, 0), Embeds: embeds})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func storedRow(t *testing.T, st *Store, id int64) (body string, embedID int64) {
	t.Helper()
	if err := st.read.QueryRowContext(context.Background(), `SELECT body, embed_id FROM outbox_activities WHERE id = ?`, id).Scan(&body, &embedID); err != nil {
		t.Fatal(err)
	}
	return body, embedID
}

// TestAnnounceRefersToTheRawLog: an Announce that embeds a recorded
// activity as the raw log keeps it stores a reference, not a copy, and
// reads back byte for byte, by id and by IRI.
func TestAnnounceRefersToTheRawLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _, announce := embedWorld(t)
	id := createAnnounce(t, st, announce, "https://m.example/users/a/statuses/1/activity")
	body, embedID := storedRow(t, st, id)
	if embedID == 0 || strings.Contains(body, "graft in spring") {
		t.Errorf("stored %s (embed %d): a copy of the activity", body, embedID)
	}
	a, err := st.OutboxActivityByID(ctx, id)
	if err != nil || string(a.Body) != announce {
		t.Errorf("by id: %s, %v\nwant %s", a.Body, err, announce)
	}
	b, err := st.OutboxActivityByIRI(ctx, "https://coppice.example/c/orchard/activities/1")
	if err != nil || string(b.Body) != announce {
		t.Errorf("by IRI: %s, %v", b.Body, err)
	}
}

// TestAnnounceOfAChangedActivityIsWhole: when the body does not contain
// the activity as the raw log keeps it (the community changed it before
// announcing, or names an activity never recorded), the body is stored
// whole.
func TestAnnounceOfAChangedActivityIsWhole(t *testing.T) {
	t.Parallel()
	st, _, announce := embedWorld(t)
	changed := strings.Replace(announce, "graft in spring", "graft in autumn", 1)
	for _, tc := range []struct{ body, embeds string }{{changed, "https://m.example/users/a/statuses/1/activity"}, {announce, "https://m.example/never"}} {
		id := createAnnounce(t, st, tc.body, tc.embeds)
		if _, embedID := storedRow(t, st, id); embedID != 0 {
			t.Errorf("%s: refers to row %d", tc.embeds, embedID)
		}
		a, err := st.OutboxActivityByID(context.Background(), id)
		if err != nil || string(a.Body) != tc.body {
			t.Errorf("%s: read %s, %v", tc.embeds, a.Body, err)
		}
		if _, err := st.write.ExecContext(context.Background(), `DELETE FROM outbox_activities WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAnnounceOfAForgottenActivityNamesIt: once the raw log forgets the
// activity's text (its post edited or deleted), the Announce names the
// activity by its IRI and holds no text.
func TestAnnounceOfAForgottenActivityNamesIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _, announce := embedWorld(t)
	id := createAnnounce(t, st, announce, "https://m.example/users/a/statuses/1/activity")
	if _, err := st.write.ExecContext(ctx, `UPDATE inbox_activities SET raw = '' WHERE iri = ?`, "https://m.example/users/a/statuses/1/activity"); err != nil {
		t.Fatal(err)
	}
	a, err := st.OutboxActivityByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Object any    `json:"object"`
		Type   string `json:"type"`
	}
	if err := json.Unmarshal(a.Body, &doc); err != nil || doc.Object != "https://m.example/users/a/statuses/1/activity" || doc.Type != "Announce" || strings.Contains(string(a.Body), "graft") {
		t.Errorf("after the raw log forgot it: %s (%v)", a.Body, err)
	}
}
