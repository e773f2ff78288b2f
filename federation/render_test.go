package federation

import (
	"encoding/json"
	"reflect"
	"testing"

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
