package web

import (
	"net/http"
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

type meetingsView struct {
	Meetings  []meetingView
	TimeZones []string
	Form      meetingForm
}

// meetings lists a community's meetings, with the form that schedules
// one.
func (s *Site) meetings(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanView)
	if err != nil {
		return err
	}
	return s.renderMeetings(w, r, cr, c, http.StatusOK, "", meetingForm{TimeZone: "UTC"})
}

func (s *Site) renderMeetings(w http.ResponseWriter, r *http.Request, cr *consoleReq, c storage.Community, status int, problem string, f meetingForm) error {
	_, ms, err := s.community.Meetings(r.Context(), c, 0, 200)
	if err != nil {
		return err
	}
	v := meetingsView{TimeZones: timeZones(), Form: f}
	now := s.console.now()
	for _, mv := range ms {
		v.Meetings = append(v.Meetings, toMeetingView(mv, now))
	}
	p := s.communityPage(r, cr, c, "Meetings", "meetings")
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
		return s.renderMeetings(w, r, cr, c, http.StatusUnprocessableEntity, "", f)
	}
	m, err := s.community.CreateMeeting(r.Context(), c.Name, n)
	if f.Errors = fieldErrors(err); f.Errors != nil {
		return s.renderMeetings(w, r, cr, c, http.StatusUnprocessableEntity, "", f)
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
	c, err := s.communityFor(r, cr, community.CanCurate)
	if err != nil {
		return err
	}
	iri := r.PostFormValue("meeting")
	mv, err := s.community.Meeting(r.Context(), iri)
	if err != nil {
		return err
	}
	if mv.Community.ID != c.ID {
		return community.ErrForbidden // a meeting of another community
	}
	m, err := s.community.CancelMeeting(r.Context(), iri)
	if err != nil {
		return err
	}
	s.record(r, cr, "meeting cancel", c.Name, m.IRI, m.Title)
	return done(w, r, communityPath(c.Name, "meetings"), "cancelled")
}
