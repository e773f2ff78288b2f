package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/ical"
	"github.com/coppice-dev/coppice/storage"
)

// objectIRI is the IRI a request path names on this instance.
func (s *Site) objectIRI(r *http.Request) string {
	u := *s.base
	u.Path = r.URL.Path
	return u.String()
}

type resourceView struct {
	storage.Resource
	Link     string
	TagList  []string
	Proposer string
}

func (s *Site) resourceView(res storage.Resource) resourceView {
	v := resourceView{Resource: res, Link: res.URL, TagList: strings.Fields(res.Tags), Proposer: res.ProposedBy}
	if res.FileHash != "" {
		v.Link = "/media/" + res.FileHash + res.FileExt + "?name=" + res.FileName
	}
	return v
}

// Resource shows one resource of a community's repertoire.
func (s *Site) Resource() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		res, c, err := s.community.Resource(r.Context(), s.objectIRI(r))
		if err != nil {
			return err
		}
		if res.State != storage.ResourcePublished {
			return s.render(w, r, http.StatusGone, "error", map[string]any{"Title": "Archived", "Message": "This resource was archived by the community."})
		}
		return s.render(w, r, http.StatusOK, "resource", map[string]any{"Title": res.Title, "Community": s.view(c), "Resource": s.resourceView(res)})
	})
}

type meetingView struct {
	storage.Meeting
	When      string
	Counts    storage.RSVPCounts
	Cancelled bool
	Past      bool
}

func meetingWhen(m storage.Meeting) string {
	loc, err := time.LoadLocation(m.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	st, en := m.Start.In(loc), m.End.In(loc)
	end := en.Format("15:04")
	if st.YearDay() != en.YearDay() || st.Year() != en.Year() {
		end = en.Format("Mon 2 Jan 2006 15:04")
	}
	return st.Format("Mon 2 Jan 2006 15:04") + " – " + end + " (" + m.TimeZone + ")"
}

func toMeetingView(mv community.MeetingView, now time.Time) meetingView {
	return meetingView{Meeting: mv.Meeting, When: meetingWhen(mv.Meeting), Counts: mv.Counts,
		Cancelled: mv.Meeting.Status == storage.MeetingCancelled, Past: mv.Meeting.End.Before(now)}
}

// Meeting shows one meeting with its answers.
func (s *Site) Meeting() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		mv, err := s.community.Meeting(r.Context(), s.objectIRI(r))
		if err != nil {
			return err
		}
		return s.render(w, r, http.StatusOK, "meeting", map[string]any{"Title": mv.Meeting.Title, "Community": s.view(mv.Community),
			"Meeting": toMeetingView(mv, time.Now()), "AnswerPath": r.URL.Path + "/answer"})
	})
}

// Calendar serves a community's meetings as an iCalendar feed.
func (s *Site) Calendar() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.community.Community(r.Context(), pathVar(r, "name"))
		if err != nil {
			return err
		}
		_, ms, err := s.community.Meetings(r.Context(), c, 0, 500)
		if err != nil {
			return err
		}
		var events []ical.Event
		for _, mv := range ms {
			m := mv.Meeting
			status := map[string]string{storage.MeetingConfirmed: "CONFIRMED", storage.MeetingTentative: "TENTATIVE", storage.MeetingCancelled: "CANCELLED"}[m.Status]
			where := m.Place
			if m.OnlineURL != "" {
				where = m.OnlineURL
			}
			e := ical.Event{
				UID: m.IRI, Summary: m.Title, Description: m.Description, URL: m.IRI, Location: where,
				Start: m.Start, End: m.End, TimeZone: m.TimeZone, RRule: m.RRule, Status: status,
				Created: m.CreatedAt, Modified: m.UpdatedAt, Sequence: m.Sequence,
			}
			// One meeting the calendar format cannot hold (a row from
			// before dates were bounded, say) is left out; it never takes
			// the whole feed down (issue 11, bypass 7).
			if err := ical.Check(e); err != nil {
				s.log.WarnContext(r.Context(), "meeting left out of the calendar", "community", c.Name, "activity_iri", m.IRI, "err", err)
				continue
			}
			events = append(events, e)
		}
		w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
		w.Header().Set("Content-Disposition", `inline; filename="`+c.Name+`.ics"`)
		return ical.Write(w, c.Title, time.Now(), events)
	})
}

type hitView struct {
	storage.Hit
	URL   string
	Label string
}

// Search searches posts and resources of one community or of the whole
// instance.
func (s *Site) Search() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		q := strings.TrimSpace(r.URL.Query().Get("q"))
		if len(q) > 200 {
			q = q[:200]
		}
		name := pathVar(r, "name")
		data := map[string]any{"Title": "Search", "Query": q}
		if name != "" {
			c, err := s.community.Community(r.Context(), name)
			if err != nil {
				return err
			}
			data["Community"] = s.view(c)
			data["Title"] = "Search " + c.Title
		}
		if q != "" {
			hits, err := s.community.Search(r.Context(), name, q)
			if err != nil {
				return err
			}
			views, err := s.hitViews(r, hits)
			if err != nil {
				return err
			}
			data["Hits"] = views
		}
		return s.render(w, r, http.StatusOK, "search", data)
	})
}

func (s *Site) hitViews(r *http.Request, hits []storage.Hit) ([]hitView, error) {
	cs, err := s.community.Communities(r.Context())
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, c := range cs {
		names[c.ID] = c.Name
	}
	var out []hitView
	for _, h := range hits {
		v := hitView{Hit: h}
		switch h.Kind {
		case storage.SearchResource:
			iri, err := s.community.ResourceIRI(r.Context(), h.Ref)
			if err != nil {
				continue
			}
			v.URL, v.Label = iri, "Resource"
		case storage.SearchWiki:
			iri, err := s.community.WikiPageIRI(r.Context(), h.Ref)
			if err != nil {
				continue
			}
			v.URL, v.Label = iri, "Wiki"
		case storage.SearchPost:
			threadID, err := s.community.PostThread(r.Context(), h.Ref)
			if err != nil {
				continue
			}
			v.URL, v.Label = s.threadURL(names[h.CommunityID], threadID)+"#post-"+strconv.FormatInt(h.Ref, 10), "Discussion"
		}
		out = append(out, v)
	}
	return out, nil
}

// Media serves an uploaded file of a resource.
func (s *Site) Media() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		if s.media == nil {
			return errNotFound
		}
		file := pathVar(r, "file")
		dot := strings.IndexByte(file, '.')
		if dot < 0 {
			return errNotFound
		}
		err := s.media.Serve(w, r, file[:dot], file[dot:], r.URL.Query().Get("name"))
		if errors.Is(err, mediaNotFound) {
			return errNotFound
		}
		return err
	})
}
