package federation

import (
	"bytes"
	"encoding/json"
	"os"
	"path"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams"
)

// TestAnnouncesFromTheEnvelopeMatchStreams: Announces rendered from a
// community's cached envelope are what building each with streams gives,
// each with its own id and its own thread as context.
func TestAnnouncesFromTheEnvelopeMatchStreams(t *testing.T) {
	r := NewRenderer(testIRIs(t))
	c := storage.Community{Name: "seedbreeders"}
	activity := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://remote.example/notes/1/activity","type":"Create","actor":"https://remote.example/users/a","object":{"id":"https://remote.example/notes/1","type":"Note","content":"<p>hi</p>"}}`)
	seen := map[string]bool{}
	for _, th := range []storage.Thread{{ID: 7}, {ID: 8}, {}} {
		for _, render := range []func() (storage.OutboxActivity, error){
			func() (storage.OutboxActivity, error) {
				return r.AnnounceObject(c, th, "https://remote.example/notes/1")
			},
			func() (storage.OutboxActivity, error) { return r.AnnounceActivity(c, th, activity) },
		} {
			got, err := render()
			if err != nil {
				t.Fatal(err)
			}
			// Rendered with no thread, an Announce waits for InThread;
			// placed in no thread, it has no context.
			got = r.InThread(got, c, th)
			var m map[string]any
			if err := json.Unmarshal(got.Body, &m); err != nil {
				t.Fatal(err)
			}
			if m["id"] != got.IRI || seen[got.IRI] {
				t.Errorf("Announce in thread %d: id %v (IRI %s), want a fresh id equal to the IRI", th.ID, m["id"], got.IRI)
			}
			seen[got.IRI] = true
			// What streams builds for the same id, thread and object.
			a := streams.NewActivityStreamsAnnounce()
			r.address(a, c, th)
			want, err := serialize(a)
			if err != nil {
				t.Fatal(err)
			}
			want["id"], want["object"] = m["id"], m["object"]
			wantJSON, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			var wantM map[string]any
			if err := json.Unmarshal(wantJSON, &wantM); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, wantM) {
				t.Errorf("Announce in thread %d:\ngot  %s\nwant %s", th.ID, got.Body, wantJSON)
			}
		}
	}
}

// An Announce rendered before its thread is known (community.Submit does
// so outside the write transaction) and then placed in thread 7 is the
// Announce rendered in thread 7, whatever the member's activity holds:
// one whose own object claims the pending context keeps it.
func TestAnnounceRenderedAheadIsPlacedInItsThread(t *testing.T) {
	r := NewRenderer(testIRIs(t))
	c := storage.Community{Name: "seedbreeders"}
	th := storage.Thread{ID: 7}
	activity := []byte(`{"id":"https://remote.example/notes/1/activity","type":"Create","actor":"https://remote.example/users/a","context":"https://thread.invalid/pending",` +
		`"object":{"id":"https://remote.example/notes/1","type":"Note","context":"https://thread.invalid/pending","content":"<p>\"context\":\"https://thread.invalid/pending\"</p>"}}`)
	for name, render := range map[string]func(storage.Thread) (storage.OutboxActivity, error){
		"Announce{object}": func(th storage.Thread) (storage.OutboxActivity, error) {
			return r.AnnounceObject(c, th, "https://remote.example/notes/1")
		},
		"Announce{activity}": func(th storage.Thread) (storage.OutboxActivity, error) { return r.AnnounceActivity(c, th, activity) },
	} {
		ahead, err := render(storage.Thread{})
		if err != nil {
			t.Fatal(err)
		}
		direct, err := render(th)
		if err != nil {
			t.Fatal(err)
		}
		placed := r.InThread(ahead, c, th)
		var got, want map[string]any
		if err := json.Unmarshal(placed.Body, &got); err != nil {
			t.Fatalf("%s placed: %v\n%s", name, err, placed.Body)
		}
		if err := json.Unmarshal(direct.Body, &want); err != nil {
			t.Fatal(err)
		}
		if got["id"] != ahead.IRI || placed.IRI != ahead.IRI {
			t.Errorf("%s: placing changed the id: %v, IRI %s, want %s", name, got["id"], placed.IRI, ahead.IRI)
		}
		want["id"] = got["id"]
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s placed in thread 7:\ngot  %s\nwant %s", name, placed.Body, direct.Body)
		}
		if got["context"] != r.iris.ThreadIRI(c.Name, 7).String() {
			t.Errorf("%s: context %v, want thread 7", name, got["context"])
		}
		if again := r.InThread(placed, c, storage.Thread{ID: 9}); !bytes.Equal(again.Body, placed.Body) {
			t.Errorf("%s: placing a placed Announce again changed it:\n%s", name, again.Body)
		}
	}
}

// BenchmarkAnnounceActivity measures rendering the Announce{activity} of
// a real Mastodon Create{Note}, which the inbox does for every post it
// announces (issue 13).
func BenchmarkAnnounceActivity(b *testing.B) {
	activity, err := os.ReadFile("testdata/activities/mastodon_create_note.json")
	if err != nil {
		b.Fatal(err)
	}
	r := NewRenderer(testIRIs(b))
	c := storage.Community{Name: "seedbreeders"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.AnnounceActivity(c, storage.Thread{}, activity); err != nil {
			b.Fatal(err)
		}
	}
}

// TestActivityIRIsSortByTimeAndStayUnguessable: an activity id made later
// sorts after one made earlier (so the outbox's unique index grows at its
// end), and ids made in the same microsecond still differ in their 64
// random bits.
func TestActivityIRIsSortByTimeAndStayUnguessable(t *testing.T) {
	r := NewRenderer(testIRIs(t))
	const n = 2000
	iris := make([]string, n)
	for i := range iris {
		iris[i] = r.activityIRI("seedbreeders").String()
		if i%100 == 99 {
			time.Sleep(2 * time.Microsecond)
		}
	}
	seen := map[string]bool{}
	prefix := strings.TrimSuffix(iris[0], path.Base(iris[0]))
	for i, iri := range iris {
		if seen[iri] {
			t.Fatalf("id %s made twice", iri)
		}
		seen[iri] = true
		id := strings.TrimPrefix(iri, prefix)
		if len(id) != 30 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("id %q: want 30 hex digits under %s", id, prefix)
		}
		// Ids 100 apart straddle a sleep: a later microsecond.
		if i >= 100 && iri <= iris[i-100] {
			t.Fatalf("%s made after %s sorts before it", iri, iris[i-100])
		}
	}
	// The last 16 hex digits are random: ids of one microsecond differ
	// there, and across the run they take many values.
	tails := map[string]bool{}
	for _, iri := range iris {
		tails[iri[len(iri)-16:]] = true
	}
	if len(tails) != n {
		t.Errorf("%d distinct random parts in %d ids", len(tails), n)
	}
}
