package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// timeZones are the zones the meeting form offers, UTC first. The form
// accepts any IANA name.
func timeZones() []string {
	return []string{"UTC",
		"Africa/Cairo", "Africa/Johannesburg", "Africa/Lagos", "Africa/Nairobi",
		"America/Anchorage", "America/Bogota", "America/Chicago", "America/Denver", "America/Halifax",
		"America/Los_Angeles", "America/Mexico_City", "America/New_York", "America/Sao_Paulo", "America/Toronto",
		"Asia/Bangkok", "Asia/Dubai", "Asia/Hong_Kong", "Asia/Jakarta", "Asia/Kolkata", "Asia/Seoul",
		"Asia/Shanghai", "Asia/Singapore", "Asia/Tokyo",
		"Australia/Brisbane", "Australia/Melbourne", "Australia/Perth", "Australia/Sydney",
		"Europe/Amsterdam", "Europe/Athens", "Europe/Berlin", "Europe/Brussels", "Europe/Dublin", "Europe/Helsinki",
		"Europe/Istanbul", "Europe/Lisbon", "Europe/London", "Europe/Madrid", "Europe/Paris", "Europe/Rome",
		"Europe/Stockholm", "Europe/Warsaw", "Europe/Zurich",
		"Pacific/Auckland", "Pacific/Honolulu"}
}

// meetingForm schedules a meeting. Start and End are local date-times
// (datetime-local inputs) read in TimeZone.
type meetingForm struct {
	Title       string
	Description string
	Start       string
	End         string
	TimeZone    string
	Online      string
	Place       string
	Repeat      string
	Capacity    string
	Errors      map[string]string
}

func meetingFormFrom(r *http.Request) meetingForm {
	return meetingForm{
		Title:       strings.TrimSpace(r.PostFormValue("title")),
		Description: r.PostFormValue("description"),
		Start:       strings.TrimSpace(r.PostFormValue("start")),
		End:         strings.TrimSpace(r.PostFormValue("end")),
		TimeZone:    r.PostFormValue("timezone"),
		Online:      strings.TrimSpace(r.PostFormValue("online")),
		Place:       strings.TrimSpace(r.PostFormValue("place")),
		Repeat:      strings.ToUpper(strings.TrimSpace(r.PostFormValue("repeat"))),
		Capacity:    strings.TrimSpace(r.PostFormValue("capacity")),
	}
}

// parseLocal reads what a datetime-local input sends, with or without
// seconds, in loc.
func parseLocal(v string, loc *time.Location) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// meeting turns the form into the community layer's input, with a message
// per field that does not parse or breaks a rule.
func (f meetingForm) meeting(by string) (community.NewMeeting, map[string]string) {
	errs := map[string]string{}
	n := community.NewMeeting{Title: f.Title, Description: f.Description, TimeZone: f.TimeZone, OnlineURL: f.Online,
		Place: f.Place, RRule: f.Repeat, By: by}
	loc := time.UTC
	if f.TimeZone != "" && f.TimeZone != "Local" {
		if l, err := time.LoadLocation(f.TimeZone); err == nil {
			loc = l
		}
	}
	var ok bool
	if n.Start, ok = parseLocal(f.Start, loc); !ok {
		errs["start"] = "give a date and a time"
	}
	if n.End, ok = parseLocal(f.End, loc); !ok {
		errs["end"] = "give a date and a time"
	}
	if f.Capacity != "" {
		c, err := strconv.Atoi(f.Capacity)
		if err != nil {
			errs["capacity"] = "must be a whole number"
		}
		n.Capacity = c
	}
	for k, v := range n.Validate() {
		if _, seen := errs[k]; !seen {
			errs[k] = v
		}
	}
	if len(errs) == 0 {
		return n, nil
	}
	return n, errs
}

// Validate returns a message per bad field, or nil.
func (f meetingForm) Validate() map[string]string {
	_, errs := f.meeting("")
	return errs
}

// meetingFields is one meeting form of the page: its fields, where it
// posts, and the prefix that keeps its element ids apart from the others.
type meetingFields struct {
	Prefix    string
	Action    string // the path under the community's console page
	Meeting   string // the IRI of the meeting edited; empty to schedule one
	Submit    string
	Community string
	CSRF      string
	TimeZones []string
	Form      meetingForm
}

// adminMeeting is a meeting of the list with its edit form.
type adminMeeting struct {
	meetingView
	Edit meetingFields
	Open bool // the edit form failed: it is shown open with the user's input
}

type meetingsView struct {
	Meetings []adminMeeting
	Create   meetingFields
}

// meetingEdit is an edit that failed, to show again with its errors.
type meetingEdit struct {
	IRI  string
	Form meetingForm
}

// meetingFormOf fills the edit form of m, times in the meeting's zone.
func meetingFormOf(m storage.Meeting) meetingForm {
	loc, err := time.LoadLocation(m.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	f := meetingForm{Title: m.Title, Description: m.Description, TimeZone: m.TimeZone, Online: m.OnlineURL, Place: m.Place, Repeat: m.RRule,
		Start: m.Start.In(loc).Format("2006-01-02T15:04"), End: m.End.In(loc).Format("2006-01-02T15:04")}
	if m.Capacity > 0 {
		f.Capacity = strconv.Itoa(m.Capacity)
	}
	return f
}

// zonesWith is the offered zones plus tz, so that a select never changes
// a zone it does not list.
func zonesWith(tz string) []string {
	zones := timeZones()
	if tz == "" || slices.Contains(zones, tz) {
		return zones
	}
	return append(zones, tz)
}

// meetings lists a community's meetings, with the forms that edit them
// and the one that schedules another.
func (s *Site) meetings(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanView)
	if err != nil {
		return err
	}
	return s.renderMeetings(w, r, cr, c, http.StatusOK, "", meetingForm{TimeZone: "UTC"}, meetingEdit{})
}

func (s *Site) renderMeetings(w http.ResponseWriter, r *http.Request, cr *consoleReq, c storage.Community, status int, problem string, f meetingForm, edit meetingEdit) error {
	_, ms, err := s.community.Meetings(r.Context(), c, 0, 200)
	if err != nil {
		return err
	}
	p := s.communityPage(r, cr, c, "Meetings", "meetings")
	fields := func(prefix, action, iri, submit string, f meetingForm) meetingFields {
		return meetingFields{Prefix: prefix, Action: action, Meeting: iri, Submit: submit, Community: c.Name, CSRF: p.CSRF,
			TimeZones: zonesWith(f.TimeZone), Form: f}
	}
	v := meetingsView{Create: fields("m", "meetings", "", "Schedule meeting", f)}
	now := s.console.now()
	for i, mv := range ms {
		am := adminMeeting{meetingView: toMeetingView(mv, now)}
		ef := meetingFormOf(mv.Meeting)
		if edit.IRI != "" && edit.IRI == mv.Meeting.IRI {
			ef, am.Open = edit.Form, true
		}
		am.Edit = fields(fmt.Sprintf("e%d", i+1), "meetings/update", mv.Meeting.IRI, "Save changes", ef)
		v.Meetings = append(v.Meetings, am)
	}
	p.Problem, p.Data = problem, v
	return s.renderConsole(w, status, "admin_meetings", p)
}

// createMeeting schedules a meeting and announces it, as `coppice meeting
// create` does.
func (s *Site) createMeeting(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanCurate)
	if err != nil {
		return err
	}
	f := meetingFormFrom(r)
	n, errs := f.meeting(cr.username())
	if f.Errors = errs; errs != nil {
		return s.renderMeetings(w, r, cr, c, http.StatusUnprocessableEntity, "", f, meetingEdit{})
	}
	m, err := s.community.CreateMeeting(r.Context(), c.Name, n)
	if f.Errors = fieldErrors(err); f.Errors != nil {
		return s.renderMeetings(w, r, cr, c, http.StatusUnprocessableEntity, "", f, meetingEdit{})
	}
	if err != nil {
		return err
	}
	s.record(r, cr, "meeting create", c.Name, m.IRI, m.Title)
	return done(w, r, communityPath(c.Name, "meetings"), "scheduled")
}

// cancelMeeting cancels a meeting of the community, as `coppice meeting
// cancel` does.
func (s *Site) cancelMeeting(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, mv, err := s.meetingOf(r, cr)
	if err != nil {
		return err
	}
	m, err := s.community.CancelMeeting(r.Context(), mv.Meeting.IRI)
	if err != nil {
		return err
	}
	s.record(r, cr, "meeting cancel", c.Name, m.IRI, m.Title)
	return done(w, r, communityPath(c.Name, "meetings"), "cancelled")
}

// updateMeeting changes a meeting of the community and sends the Update,
// as `coppice meeting update` does.
func (s *Site) updateMeeting(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, mv, err := s.meetingOf(r, cr)
	if err != nil {
		return err
	}
	iri := mv.Meeting.IRI
	f := meetingFormFrom(r)
	if mv.Meeting.Status == storage.MeetingCancelled {
		return s.renderMeetings(w, r, cr, c, http.StatusConflict, "A cancelled meeting cannot be edited.", meetingForm{TimeZone: "UTC"}, meetingEdit{})
	}
	n, errs := f.meeting(cr.username())
	if f.Errors = errs; errs != nil {
		return s.renderMeetings(w, r, cr, c, http.StatusUnprocessableEntity, "", meetingForm{TimeZone: "UTC"}, meetingEdit{IRI: iri, Form: f})
	}
	m, err := s.community.UpdateMeeting(r.Context(), iri, n)
	if f.Errors = fieldErrors(err); f.Errors != nil {
		return s.renderMeetings(w, r, cr, c, http.StatusUnprocessableEntity, "", meetingForm{TimeZone: "UTC"}, meetingEdit{IRI: iri, Form: f})
	}
	if err != nil {
		return err
	}
	s.record(r, cr, "meeting update", c.Name, m.IRI, m.Title)
	return done(w, r, communityPath(c.Name, "meetings"), "updated")
}

// meetingOf returns the community of the request and the meeting its form
// names, which must belong to that community.
func (s *Site) meetingOf(r *http.Request, cr *consoleReq) (storage.Community, community.MeetingView, error) {
	c, err := s.communityFor(r, cr, community.CanCurate)
	if err != nil {
		return storage.Community{}, community.MeetingView{}, err
	}
	mv, err := s.community.Meeting(r.Context(), r.PostFormValue("meeting"))
	if err != nil {
		return storage.Community{}, community.MeetingView{}, err
	}
	if mv.Community.ID != c.ID {
		return storage.Community{}, community.MeetingView{}, community.ErrForbidden // a meeting of another community
	}
	return c, mv, nil
}
