package federation

import (
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// Poll options of a meeting, in order, and the RSVP answer each counts as.
func meetingWhen(m storage.Meeting) string {
	loc, err := time.LoadLocation(m.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	s, e := m.Start.In(loc), m.End.In(loc)
	end := e.Format("15:04")
	if s.YearDay() != e.YearDay() || s.Year() != e.Year() {
		end = e.Format("Mon 2 Jan 2006 15:04")
	}
	return fmt.Sprintf("%s – %s (%s)", s.Format("Mon 2 Jan 2006 15:04"), end, m.TimeZone)
}

// EventObject renders a meeting as an Event with Mobilizon's and
// FEP-8a8e's vocabulary.
func (r *Renderer) EventObject(c storage.Community, m storage.Meeting, counts storage.RSVPCounts) (vocab.ActivityStreamsEvent, error) {
	e := streams.NewActivityStreamsEvent()
	var b strings.Builder
	if m.Status == storage.MeetingCancelled {
		b.WriteString("<p><strong>Cancelled.</strong></p>")
	}
	fmt.Fprintf(&b, "<p>%s</p>", html.EscapeString(meetingWhen(m)))
	if m.Description != "" {
		b.WriteString(summaryHTML(m.Description))
	}
	if m.OnlineURL != "" {
		fmt.Fprintf(&b, `<p>Online: <a href="%s">%s</a></p>`, html.EscapeString(m.OnlineURL), html.EscapeString(m.OnlineURL))
	} else if m.Place != "" {
		fmt.Fprintf(&b, "<p>Where: %s</p>", html.EscapeString(m.Place))
	}
	fmt.Fprintf(&b, "<p>%d going · %d maybe</p>", counts.Going, counts.Maybe)
	if err := r.publicObject(e, c, m.IRI, m.Title, b.String()); err != nil {
		return nil, err
	}
	st := streams.NewActivityStreamsStartTimeProperty()
	st.Set(m.Start)
	e.SetActivityStreamsStartTime(st)
	et := streams.NewActivityStreamsEndTimeProperty()
	et.Set(m.End)
	e.SetActivityStreamsEndTime(et)
	page := streams.NewActivityStreamsUrlProperty()
	page.AppendIRI(mustParse(m.IRI))
	e.SetActivityStreamsUrl(page)
	pub := streams.NewActivityStreamsPublishedProperty()
	pub.Set(m.CreatedAt)
	e.SetActivityStreamsPublished(pub)
	upd := streams.NewActivityStreamsUpdatedProperty()
	upd.Set(m.UpdatedAt)
	e.SetActivityStreamsUpdated(upd)
	if m.Place != "" {
		place := streams.NewActivityStreamsPlace()
		name := streams.NewActivityStreamsNameProperty()
		name.AppendXMLSchemaString(m.Place)
		place.SetActivityStreamsName(name)
		loc := streams.NewActivityStreamsLocationProperty()
		loc.AppendActivityStreamsPlace(place)
		e.SetActivityStreamsLocation(loc)
	}
	if m.OnlineURL != "" {
		if u, err := url.Parse(m.OnlineURL); err == nil {
			att := streams.NewActivityStreamsAttachmentProperty()
			l := streams.NewActivityStreamsLink()
			href := streams.NewActivityStreamsHrefProperty()
			href.Set(u)
			l.SetActivityStreamsHref(href)
			name := streams.NewActivityStreamsNameProperty()
			name.AppendXMLSchemaString("Online meeting")
			l.SetActivityStreamsName(name)
			att.AppendActivityStreamsLink(l)
			e.SetActivityStreamsAttachment(att)
		}
		setExt(e, "isOnline", true)
	}
	status := map[string]string{storage.MeetingConfirmed: "CONFIRMED", storage.MeetingTentative: "TENTATIVE", storage.MeetingCancelled: "CANCELLED"}[m.Status]
	setExt(e, "ical:status", status)
	setExt(e, "timezone", m.TimeZone)
	setExt(e, "joinMode", "free")
	setExt(e, "participantCount", counts.Going)
	if m.Capacity > 0 {
		setExt(e, "maximumAttendeeCapacity", m.Capacity)
	}
	if m.RRule != "" {
		setExt(e, "ical:rrule", m.RRule)
	}
	setExt(e, "replies", m.PollIRI)
	return e, nil
}

// PollObject renders the Question that lets Mastodon users answer a
// meeting invitation: Going, Maybe or Not going, with the counts.
func (r *Renderer) PollObject(c storage.Community, m storage.Meeting, counts storage.RSVPCounts) (vocab.ActivityStreamsQuestion, error) {
	q := streams.NewActivityStreamsQuestion()
	content := fmt.Sprintf(`<p>Are you coming to <a href="%s">%s</a>? %s</p>`, html.EscapeString(m.IRI), html.EscapeString(m.Title), html.EscapeString(meetingWhen(m)))
	if err := r.publicObject(q, c, m.PollIRI, "Are you coming to "+m.Title+"?", content); err != nil {
		return nil, err
	}
	n := map[string]int{storage.RSVPGoing: counts.Going, storage.RSVPMaybe: counts.Maybe, storage.RSVPDeclined: counts.Declined}
	one := streams.NewActivityStreamsOneOfProperty()
	for _, o := range community.PollOptions {
		note := streams.NewActivityStreamsNote()
		name := streams.NewActivityStreamsNameProperty()
		name.AppendXMLSchemaString(o.Name)
		note.SetActivityStreamsName(name)
		replies := streams.NewActivityStreamsCollection()
		total := streams.NewActivityStreamsTotalItemsProperty()
		total.Set(n[o.Answer])
		replies.SetActivityStreamsTotalItems(total)
		rp := streams.NewActivityStreamsRepliesProperty()
		rp.SetActivityStreamsCollection(replies)
		note.SetActivityStreamsReplies(rp)
		one.AppendActivityStreamsNote(note)
	}
	q.SetActivityStreamsOneOf(one)
	end := streams.NewActivityStreamsEndTimeProperty()
	end.Set(m.Start)
	q.SetActivityStreamsEndTime(end)
	if m.Status == storage.MeetingCancelled || !m.Start.After(m.UpdatedAt) {
		closed := streams.NewActivityStreamsClosedProperty()
		closed.AppendXMLSchemaDateTime(m.UpdatedAt)
		q.SetActivityStreamsClosed(closed)
	}
	pub := streams.NewActivityStreamsPublishedProperty()
	pub.Set(m.CreatedAt)
	q.SetActivityStreamsPublished(pub)
	voters := streams.NewTootVotersCountProperty()
	voters.Set(counts.Going + counts.Maybe + counts.Declined)
	q.SetTootVotersCount(voters)
	ctxp := streams.NewActivityStreamsContextProperty()
	ctxp.AppendIRI(mustParse(m.IRI))
	q.SetActivityStreamsContext(ctxp)
	return q, nil
}

// Meeting renders Create or Update of a meeting's Event and of its poll.
func (r *Renderer) Meeting(c storage.Community, m storage.Meeting, counts storage.RSVPCounts, verb string) ([]storage.OutboxActivity, error) {
	ev, err := r.EventObject(c, m, counts)
	if err != nil {
		return nil, err
	}
	poll, err := r.PollObject(c, m, counts)
	if err != nil {
		return nil, err
	}
	var out []storage.OutboxActivity
	for _, obj := range []vocab.Type{ev, poll} {
		var act announceLike
		if verb == "Create" {
			act = streams.NewActivityStreamsCreate()
		} else {
			act = streams.NewActivityStreamsUpdate()
		}
		iri := r.address(act, c, storage.Thread{})
		op := streams.NewActivityStreamsObjectProperty()
		if err := op.AppendType(obj); err != nil {
			return nil, err
		}
		act.SetActivityStreamsObject(op)
		a, err := r.finish(act, iri, c)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
