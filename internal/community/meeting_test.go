package community_test

import (
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// newMeeting is a valid meeting a week from the world's now, for capacity
// places (0: no limit).
func newMeeting(w *world, capacity int) community.NewMeeting {
	start := w.clk.now().Add(7 * 24 * time.Hour)
	return community.NewMeeting{Title: "Seed swap", Start: start, End: start.Add(2 * time.Hour), TimeZone: "Europe/Berlin",
		Place: "Library", Capacity: capacity, By: "admin"}
}

func TestMeetingValidation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ok := newMeeting(w, 0)
	tests := []struct {
		name  string
		edit  func(*community.NewMeeting)
		field string
	}{
		{"no title", func(n *community.NewMeeting) { n.Title = " " }, "title"},
		{"a start in the year 9999", func(n *community.NewMeeting) {
			n.Start = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
			n.End = n.Start.Add(time.Hour)
		}, "start"},
		{"an end before the start", func(n *community.NewMeeting) { n.End = n.Start.Add(-time.Hour) }, "end"},
		{"a meeting of two months", func(n *community.NewMeeting) { n.End = n.Start.AddDate(0, 2, 0) }, "end"},
		{"the Local time zone", func(n *community.NewMeeting) { n.TimeZone = "Local" }, "timezone"},
		{"an online link that is not http", func(n *community.NewMeeting) { n.Place, n.OnlineURL = "", "ftp://x.example/" }, "online"},
		{"a place and a link", func(n *community.NewMeeting) { n.OnlineURL = "https://meet.example/x" }, "place"},
		{"a bad repeat rule", func(n *community.NewMeeting) { n.RRule = "FREQ=SOMETIMES" }, "repeat"},
		{"a negative capacity", func(n *community.NewMeeting) { n.Capacity = -1 }, "capacity"},
	}
	for _, tt := range tests {
		n := ok
		tt.edit(&n)
		if _, err := w.svc.CreateMeeting(w.ctx, w.c.Name, n); !isInvalid(err, tt.field) {
			t.Errorf("CreateMeeting with %s = %v, want an error on %s", tt.name, err, tt.field)
		}
	}
	if len(w.r.Of("Meeting")) != 0 {
		t.Errorf("invalid meetings were sent: %+v", w.r.Of("Meeting"))
	}
}

func TestMeetingsAreSentAndUpdated(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	bea := w.member("https://b.example/users/bea")
	m, err := w.svc.CreateMeeting(w.ctx, w.c.Name, newMeeting(w, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.objects("Meeting", "Create"); !sameSet(got, []string{m.IRI, m.PollIRI}) {
		t.Fatalf("Create rendered for %v, want the Event and its poll", got)
	}
	for _, x := range w.r.Of("Meeting") {
		if got := w.queued()[x.Activity.IRI]; !sameSet(got, []string{bea.Inbox}) {
			t.Errorf("Create of %s queued for %v, want the follower", x.Object, got)
		}
	}
	w.r.Reset()
	n := newMeeting(w, 10)
	n.Title = "Seed swap, bigger room"
	if m, err = w.svc.UpdateMeeting(w.ctx, m.IRI, n); err != nil || m.Title != n.Title || m.Capacity != 10 {
		t.Fatalf("UpdateMeeting = %+v, %v", m, err)
	}
	if got := w.objects("Meeting", "Update"); !sameSet(got, []string{m.IRI, m.PollIRI}) {
		t.Errorf("UpdateMeeting rendered %v, want Update of the Event and poll", got)
	}
	total, views, err := w.svc.Meetings(w.ctx, w.c, 0, 10)
	if err != nil || total != 1 || len(views) != 1 || views[0].Meeting.Title != n.Title {
		t.Errorf("Meetings = %d, %+v, %v; want the updated meeting", total, views, err)
	}
	w.r.Reset()
	if m, err = w.svc.CancelMeeting(w.ctx, m.IRI); err != nil || m.Status != storage.MeetingCancelled {
		t.Fatalf("CancelMeeting = %+v, %v", m, err)
	}
	if _, err = w.svc.CancelMeeting(w.ctx, m.IRI); err != nil || len(w.r.Of("Meeting")) != 2 {
		t.Errorf("cancelling twice = %v and rendered %d activities, want one Update pair", err, len(w.r.Of("Meeting")))
	}
	if err := w.svc.RSVP(w.ctx, w.in(bea, "Join"), m.IRI, storage.RSVPGoing); !isRefused(err) {
		t.Errorf("an answer to a cancelled meeting = %v, want refused", err)
	}
}

func TestMeetingAnswers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	bea := w.member("https://b.example/users/bea")
	stranger := w.actor("https://x.example/users/x")
	m, err := w.svc.CreateMeeting(w.ctx, w.c.Name, newMeeting(w, 1))
	if err != nil {
		t.Fatal(err)
	}
	counts := func() storage.RSVPCounts {
		t.Helper()
		v, err := w.svc.Meeting(w.ctx, m.PollIRI)
		if err != nil {
			t.Fatal(err)
		}
		return v.Counts
	}
	t.Run("a stranger may not answer", func(t *testing.T) {
		if err := w.svc.RSVP(w.ctx, w.in(stranger, "Join"), m.IRI, storage.RSVPGoing); !isRefused(err) {
			t.Errorf("RSVP by a stranger = %v, want refused", err)
		}
		if got := counts(); got.Going != 0 {
			t.Errorf("counts = %+v, want nobody going", got)
		}
	})
	t.Run("the last place goes to the first member", func(t *testing.T) {
		if err := w.svc.RSVP(w.ctx, w.in(ann, "Join"), m.IRI, storage.RSVPGoing); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.AnswerMeeting(w.ctx, community.Member(bea.IRI), m.IRI, storage.RSVPGoing); !isRefused(err) {
			t.Errorf("a second member going to a full meeting = %v, want refused", err)
		}
		if err := w.svc.AnswerMeeting(w.ctx, community.Member(bea.IRI), m.IRI, storage.RSVPMaybe); err != nil {
			t.Errorf("maybe to a full meeting = %v, want accepted", err)
		}
		// The member who has the place keeps it when her server sends the
		// Join again.
		if err := w.svc.RSVP(w.ctx, w.in(ann, "Join"), m.IRI, storage.RSVPGoing); err != nil {
			t.Errorf("a repeated Join by the member going = %v, want accepted", err)
		}
		if got := counts(); got != (storage.RSVPCounts{Going: 1, Maybe: 1}) {
			t.Errorf("counts = %+v, want one going and one maybe", got)
		}
	})
	t.Run("taking an answer back frees the place", func(t *testing.T) {
		if err := w.svc.RSVP(w.ctx, w.in(ann, "Leave"), m.IRI, ""); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.AnswerMeeting(w.ctx, community.Member(bea.IRI), m.IRI, storage.RSVPGoing); err != nil {
			t.Errorf("going once the place is free = %v", err)
		}
		if got := counts(); got != (storage.RSVPCounts{Going: 1}) {
			t.Errorf("counts = %+v, want one going (the last answer wins)", got)
		}
	})
	t.Run("only members on the site, with a known answer", func(t *testing.T) {
		if err := w.svc.AnswerMeeting(w.ctx, community.Operator(""), m.IRI, storage.RSVPGoing); err != community.ErrForbidden {
			t.Errorf("AnswerMeeting by the operator = %v, want ErrForbidden", err)
		}
		if err := w.svc.AnswerMeeting(w.ctx, community.Member(bea.IRI), m.IRI, "perhaps"); !isInvalid(err, "answer") {
			t.Errorf("AnswerMeeting(perhaps) = %v, want InvalidError", err)
		}
	})
}

func TestSendChangedCountsBatchesAnswers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	bea := w.member("https://b.example/users/bea")
	m, err := w.svc.CreateMeeting(w.ctx, w.c.Name, newMeeting(w, 0))
	if err != nil {
		t.Fatal(err)
	}
	quiet, err := w.svc.CreateMeeting(w.ctx, w.c.Name, newMeeting(w, 0))
	if err != nil {
		t.Fatal(err)
	}
	w.r.Reset()
	// Toggling Join and Leave many times sends nothing by itself.
	for i := 0; i < 10; i++ {
		if err := w.svc.RSVP(w.ctx, w.in(ann, "Join"), m.IRI, storage.RSVPGoing); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.RSVP(w.ctx, w.in(ann, "Leave"), m.IRI, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.svc.RSVP(w.ctx, w.in(bea, "Accept"), m.IRI, storage.RSVPGoing); err != nil {
		t.Fatal(err)
	}
	if got := len(w.r.Rendered()); got != 0 {
		t.Fatalf("answers rendered %d activities by themselves, want 0", got)
	}
	if n, err := w.svc.SendChangedCounts(w.ctx, community.CountsSettle); err != nil || n != 0 {
		t.Errorf("SendChangedCounts before the answers settled = %d, %v; want 0", n, err)
	}
	w.clk.advance(community.CountsSettle)
	n, err := w.svc.SendChangedCounts(w.ctx, community.CountsSettle)
	if err != nil || n != 1 {
		t.Fatalf("SendChangedCounts after they settled = %d, %v; want 1 meeting", n, err)
	}
	got := w.r.Of("Meeting")
	if len(got) != 2 || got[0].Object != m.IRI || got[1].Object != m.PollIRI || got[0].Verb != "Update" || got[0].Counts != (storage.RSVPCounts{Going: 1}) {
		t.Errorf("SendChangedCounts rendered %+v, want one Update pair of %s with one going", got, m.IRI)
	}
	for _, x := range got {
		if q := w.queued()[x.Activity.IRI]; !sameSet(q, []string{ann.Inbox, bea.Inbox}) {
			t.Errorf("Update of %s queued for %v, want every follower", x.Object, q)
		}
	}
	for _, x := range got {
		if x.Object == quiet.IRI {
			t.Errorf("a meeting without new answers was sent")
		}
	}
	if n, err := w.svc.SendChangedCounts(w.ctx, community.CountsSettle); err != nil || n != 0 {
		t.Errorf("SendChangedCounts again = %d, %v; want 0", n, err)
	}
}
