package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// dashboard shows the counts of the communities the user runs and the
// state of the delivery queue.
func (s *Site) dashboard(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	d, err := s.community.Dashboard(r.Context(), cr.user())
	if err != nil {
		return err
	}
	ids := make([]int64, 0, len(d.Communities))
	for _, c := range d.Communities {
		ids = append(ids, c.ID)
	}
	activity, err := s.community.CommunityActivity(r.Context(), ids...)
	if err != nil {
		return err
	}
	deliveries, err := s.community.DeliveryActivity(r.Context())
	if err != nil {
		return err
	}
	p := s.page(r, cr, "Dashboard", "dashboard")
	p.Data = dashboardView{Dashboard: d, Activity: communityCharts("all", activity), Deliveries: deliveryCharts(deliveries)}
	return s.renderConsole(w, http.StatusOK, "admin_dashboard", p)
}

// dashboardView is the dashboard's counts and charts: the activity of the
// communities the user runs, summed, and the instance's deliveries.
type dashboardView struct {
	community.Dashboard
	Activity   []chart
	Deliveries []chart
}

// newCommunityForm is the form that creates a community.
type newCommunityForm struct {
	Name    string
	Title   string
	Summary string
	Join    string
	Errors  map[string]string
}

func newCommunityFormFrom(r *http.Request) newCommunityForm {
	return newCommunityForm{
		Name:    strings.TrimSpace(r.PostFormValue("name")),
		Title:   strings.TrimSpace(r.PostFormValue("title")),
		Summary: r.PostFormValue("summary"),
		Join:    r.PostFormValue("join"),
	}
}

func (f newCommunityForm) input() community.NewCommunity {
	return community.NewCommunity{Name: f.Name, Title: f.Title, Summary: f.Summary, JoinMode: f.Join}
}

// Validate returns a message per bad field, or nil: the community layer's
// rules.
func (f newCommunityForm) Validate() map[string]string { return f.input().Validate() }

type communitiesView struct {
	Communities []storage.CommunityStats
	New         newCommunityForm
}

// communities lists the communities the user runs and, for admins, the
// form that creates one.
func (s *Site) communities(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	return s.renderCommunities(w, r, cr, http.StatusOK, newCommunityForm{Join: community.JoinOpen})
}

func (s *Site) renderCommunities(w http.ResponseWriter, r *http.Request, cr *consoleReq, status int, f newCommunityForm) error {
	d, err := s.community.Dashboard(r.Context(), cr.user())
	if err != nil {
		return err
	}
	p := s.page(r, cr, "Communities", "communities")
	p.Data = communitiesView{Communities: d.Communities, New: f}
	return s.renderConsole(w, status, "admin_communities", p)
}

// createCommunity creates a community; admins only.
func (s *Site) createCommunity(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	if err := adminOnly(cr); err != nil {
		return err
	}
	f := newCommunityFormFrom(r)
	if f.Errors = f.Validate(); f.Errors != nil {
		return s.renderCommunities(w, r, cr, http.StatusUnprocessableEntity, f)
	}
	c, err := s.community.CreateCommunity(r.Context(), f.input())
	if errors.Is(err, community.ErrConflict) {
		f.Errors = map[string]string{"name": "taken: choose another name"}
		return s.renderCommunities(w, r, cr, http.StatusConflict, f)
	}
	if f.Errors = fieldErrors(err); f.Errors != nil {
		return s.renderCommunities(w, r, cr, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	s.record(r, cr, "community create", c.Name, "", "join "+c.JoinMode)
	return done(w, r, communityPath(c.Name, ""), "created")
}

// communityForm edits a community's profile and settings.
type communityForm struct {
	Title        string
	Summary      string
	Rules        string
	Join         string
	Posting      string
	BoostReplies bool
	Errors       map[string]string
}

func communityFormFrom(r *http.Request) communityForm {
	return communityForm{
		Title:        strings.TrimSpace(r.PostFormValue("title")),
		Summary:      r.PostFormValue("summary"),
		Rules:        r.PostFormValue("rules"),
		Join:         r.PostFormValue("join"),
		Posting:      r.PostFormValue("posting"),
		BoostReplies: r.PostFormValue("boost") == "on",
	}
}

func (f communityForm) edit() community.CommunityEdit {
	return community.CommunityEdit{Title: f.Title, Summary: f.Summary, Rules: f.Rules, JoinMode: f.Join}
}

// Validate returns a message per bad field, or nil.
func (f communityForm) Validate() map[string]string {
	errs := f.edit().Validate()
	switch f.Posting {
	case community.PostMembers, community.PostAnyone, community.PostModerators:
	default:
		if errs == nil {
			errs = map[string]string{}
		}
		errs["posting"] = "must be members, anyone or moderators"
	}
	return errs
}

type settingsView struct {
	Form       communityForm
	ArchivedAt time.Time
	Handle     string
	PublicURL  string
	IsAdmin    bool
	Charts     []chart // posts and new members per day
}

// communitySettings shows a community's profile and settings, as a form
// to those who moderate it.
func (s *Site) communitySettings(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanView)
	if err != nil {
		return err
	}
	f := communityForm{Title: c.Title, Summary: c.Summary, Rules: c.Rules, Join: c.JoinMode, Posting: c.PostingPolicy, BoostReplies: c.BoostReplies}
	return s.renderCommunity(w, r, cr, c, http.StatusOK, f)
}

func (s *Site) renderCommunity(w http.ResponseWriter, r *http.Request, cr *consoleReq, c storage.Community, status int, f communityForm) error {
	d, err := s.community.Dashboard(r.Context(), cr.user())
	if err != nil {
		return err
	}
	activity, err := s.community.CommunityActivity(r.Context(), c.ID)
	if err != nil {
		return err
	}
	pub := s.view(c)
	v := settingsView{Form: f, Handle: pub.Handle, PublicURL: pub.URL, IsAdmin: cr.user().IsAdmin(), Charts: communityCharts(c.Name, activity)}
	for _, cs := range d.Communities {
		if cs.ID == c.ID {
			v.ArchivedAt = cs.ArchivedAt
		}
	}
	p := s.communityPage(r, cr, c, "Settings", "settings")
	p.Data = v
	return s.renderConsole(w, status, "admin_community", p)
}

// saveCommunity changes a community's title, summary and join mode, then
// its posting policy and reply boosting (the same call as `coppice
// community set`).
func (s *Site) saveCommunity(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanModerate)
	if err != nil {
		return err
	}
	f := communityFormFrom(r)
	if f.Errors = f.Validate(); f.Errors != nil {
		return s.renderCommunity(w, r, cr, c, http.StatusUnprocessableEntity, f)
	}
	if _, err := s.community.EditCommunity(r.Context(), c.Name, f.edit()); err != nil {
		if f.Errors = fieldErrors(err); f.Errors != nil {
			return s.renderCommunity(w, r, cr, c, http.StatusUnprocessableEntity, f)
		}
		return err
	}
	if _, err := s.community.UpdateSettings(r.Context(), c.Name, community.Settings{PostingPolicy: f.Posting, BoostReplies: f.BoostReplies}); err != nil {
		return err
	}
	s.record(r, cr, "community edit", c.Name, "", "join "+f.Join+", posting "+f.Posting)
	return done(w, r, communityPath(c.Name, ""), "saved")
}

// archiveCommunity archives or restores a community; admins only.
func (s *Site) archiveCommunity(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	if err := adminOnly(cr); err != nil {
		return err
	}
	c, err := s.communityFor(r, cr, community.CanModerate)
	if err != nil {
		return err
	}
	archive := r.PostFormValue("archive") == "1"
	if err := s.community.ArchiveCommunity(r.Context(), c.Name, archive); err != nil {
		return err
	}
	if archive {
		s.record(r, cr, "community archive", c.Name, "", "")
		return done(w, r, communityPath(c.Name, ""), "archived")
	}
	s.record(r, cr, "community restore", c.Name, "", "")
	return done(w, r, communityPath(c.Name, ""), "restored")
}

// auditLog shows the latest console actions; admins only.
func (s *Site) auditLog(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	if err := adminOnly(cr); err != nil {
		return err
	}
	log, err := s.community.AuditLog(r.Context(), 500)
	if err != nil {
		return err
	}
	p := s.page(r, cr, "Audit log", "audit")
	p.Data = log
	return s.renderConsole(w, http.StatusOK, "admin_audit", p)
}
