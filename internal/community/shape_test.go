package community_test

import (
	"testing"

	"github.com/coppice-dev/coppice/storage"
)

// TestEachHostGetsTheAnnounceShapeItsSoftwareShows: a Mastodon host gets
// only the boost (Announce of the object) and later its Undo; a Lemmy host
// only the Announce of the activity and later the Announce of the Delete;
// a host whose software is not known gets both (issues 13 and 17).
func TestEachHostGetsTheAnnounceShapeItsSoftwareShows(t *testing.T) {
	w := newWorld(t)
	masto := w.member("https://masto.example/users/bea")
	lemmy := w.member("https://lemmy.example/u/cid")
	other := w.member("https://other.example/users/dan")
	author := w.member("https://author.example/users/ann")
	for host, f := range map[string]storage.Family{"masto.example": storage.FamilyMicroblog, "lemmy.example": storage.FamilyGroup} {
		if err := w.st.SetHostSoftware(w.ctx, host, string(f), f, w.clk.now()); err != nil {
			t.Fatal(err)
		}
	}

	n := w.note(author, "Trial data")
	w.mustSubmit(author, n)
	activity := w.r.Of("AnnounceActivity")[0].Activity.IRI
	boost := w.r.Of("AnnounceObject")[0].Activity.IRI
	q := w.queued()
	if got, want := q[activity], []string{author.Inbox, lemmy.Inbox, other.Inbox}; !sameSet(got, want) {
		t.Errorf("Announce{Create} queued for %v, want the group-aware and the unknown hosts %v", got, want)
	}
	if got, want := q[boost], []string{author.Inbox, masto.Inbox, other.Inbox}; !sameSet(got, want) {
		t.Errorf("Announce{object} queued for %v, want the microblog and the unknown hosts %v", got, want)
	}

	if err := w.svc.Delete(w.ctx, w.c.Name, w.in(author, "Delete"), n.IRI); err != nil {
		t.Fatal(err)
	}
	undo := w.r.Of("UndoAnnounce")[0].Activity.IRI
	del := w.r.Of("AnnounceActivity")[1].Activity.IRI
	q = w.queued()
	if got, want := q[undo], []string{author.Inbox, masto.Inbox, other.Inbox}; !sameSet(got, want) {
		t.Errorf("Undo{Announce} queued for %v, want %v", got, want)
	}
	if got, want := q[del], []string{author.Inbox, lemmy.Inbox, other.Inbox}; !sameSet(got, want) {
		t.Errorf("Announce{Delete} queued for %v, want %v", got, want)
	}
}
