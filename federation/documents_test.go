package federation

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

func TestDocumentsRenderAgainOnlyWhenTheStampChanges(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	d := newDocuments(func() time.Time { return now }, maxDocuments)
	key := documentKey{community: "seeds", name: "actor"}
	renders := 0
	render := func(body string) func() ([]byte, error) {
		return func() ([]byte, error) {
			renders++
			return []byte(body), nil
		}
	}
	v1 := storage.CommunityVersion{ID: 1, Version: 1}
	v2 := storage.CommunityVersion{ID: 1, Version: 2}
	for _, step := range []struct {
		name  string
		stamp storage.CommunityVersion
		body  string // what render would make
		want  string
	}{
		{"the first GET", v1, "one", "one"},
		{"a GET at the same version", v1, "unused", "one"},
		{"a GET after a change", v2, "two", "two"},
		{"another GET after it", v2, "unused", "two"},
		{"a GET that read the versions before the change", v1, "three", "three"},
	} {
		got, err := d.body(key, step.stamp, render(step.body))
		if err != nil || string(got) != step.want {
			t.Errorf("%s: body = %q, %v; want %q", step.name, got, err, step.want)
		}
	}
	if renders != 3 {
		t.Errorf("rendered %d times, want 3", renders)
	}
	boom := errors.New("boom")
	if _, err := d.body(documentKey{community: "roots", name: "actor"}, v1, func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("a failed render: err = %v, want %v", err, boom)
	}
	if _, ok := d.docs[documentKey{community: "roots", name: "actor"}]; ok {
		t.Error("a failed render was kept")
	}
}

func TestDocumentsKeepAtMostTheirBound(t *testing.T) {
	d := newDocuments(time.Now, 3)
	for i := range 10 {
		key := documentKey{community: fmt.Sprint("c", i), name: "actor"}
		if _, err := d.body(key, storage.CommunityVersion{ID: int64(i)}, func() ([]byte, error) { return []byte("{}"), nil }); err != nil {
			t.Fatal(err)
		}
		if len(d.docs) > 3 {
			t.Fatalf("after %d communities, %d documents kept, want at most 3", i+1, len(d.docs))
		}
		if _, ok := d.docs[key]; !ok {
			t.Fatalf("the document just rendered for c%d was not kept", i)
		}
	}
}

// On PostgreSQL an outbox activity committed out of the order of the ids
// leaves the stamp as it was: what was kept is rendered again after
// maxAge all the same, by one GET while the others serve it meanwhile.
func TestDocumentsAreRenderedAgainAfterMaxAge(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	d := newDocuments(func() time.Time { return now }, maxDocuments)
	key := documentKey{community: "seeds", name: "outbox?page=1"}
	v := storage.CommunityVersion{ID: 1, Version: 1, NewestListed: 7}
	get := func(render func() ([]byte, error)) string {
		t.Helper()
		b, err := d.body(key, v, render)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	fixed := func(body string) func() ([]byte, error) { return func() ([]byte, error) { return []byte(body), nil } }
	get(fixed("old"))
	now = now.Add(maxAge - time.Millisecond)
	if got := get(fixed("new")); got != "old" {
		t.Errorf("just before maxAge: body = %q, want %q", got, "old")
	}
	now = now.Add(time.Millisecond)
	// While one GET renders again, another is served what was kept.
	got := get(func() ([]byte, error) {
		if other := get(fixed("unused")); other != "old" {
			t.Errorf("a GET while another renders again: body = %q, want %q", other, "old")
		}
		return []byte("new"), nil
	})
	if got != "new" {
		t.Errorf("at maxAge: body = %q, want %q", got, "new")
	}
	if got := get(fixed("unused")); got != "new" {
		t.Errorf("after rendering again: body = %q, want %q", got, "new")
	}
}
