package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// wikiForm is the console's form for a wiki page.
type wikiForm struct {
	Slug    string
	Title   string
	Body    string
	Summary string
	Base    int
	Errors  map[string]string
	// Conflict holds the difference to the current revision when the page
	// changed while it was being edited.
	Conflict []diffLine
}

func wikiFormFrom(r *http.Request) wikiForm {
	base, _ := strconv.Atoi(r.PostFormValue("base"))
	return wikiForm{Slug: strings.TrimSpace(r.PostFormValue("slug")), Title: r.PostFormValue("title"), Body: r.PostFormValue("body"),
		Summary: r.PostFormValue("summary"), Base: base}
}

type wikiConsoleView struct {
	Pages   []storage.WikiPage
	Policy  string
	Form    wikiForm
	Editing bool
}

// wiki lists a community's wiki pages with a form to write one (or, with
// ?page=SLUG, to edit that one).
func (s *Site) wiki(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanView)
	if err != nil {
		return err
	}
	f := wikiForm{}
	if slug := r.URL.Query().Get("page"); slug != "" {
		v, err := s.community.WikiPage(r.Context(), c.Name, slug, 0)
		if err != nil {
			return err
		}
		f = wikiForm{Slug: v.Page.Slug, Title: v.Page.Title, Body: v.Revision.Body, Base: v.Page.Revision}
	}
	return s.renderWiki(w, r, cr, c, http.StatusOK, "", f)
}

func (s *Site) renderWiki(w http.ResponseWriter, r *http.Request, cr *consoleReq, c storage.Community, status int, problem string, f wikiForm) error {
	_, pages, err := s.community.WikiPages(r.Context(), c, 0, 500)
	if err != nil {
		return err
	}
	policy, err := s.community.WikiPolicy(r.Context(), c)
	if err != nil {
		return err
	}
	p := s.communityPage(r, cr, c, "Wiki", "wiki")
	p.Problem, p.Data = problem, wikiConsoleView{Pages: pages, Policy: policy, Form: f, Editing: f.Base > 0}
	return s.renderConsole(w, status, "admin_wiki", p)
}

// saveWiki saves a wiki page, as `coppice wiki edit` does; a page that
// changed since the form was opened is shown again with the difference.
func (s *Site) saveWiki(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanCurate)
	if err != nil {
		return err
	}
	f := wikiFormFrom(r)
	_, err = s.community.EditWiki(r.Context(), community.Console(cr.user()), c.Name, community.WikiEdit{
		Slug: f.Slug, Title: f.Title, Body: f.Body, Summary: f.Summary, Base: f.Base,
	})
	var conflict *community.WikiConflict
	switch {
	case errors.As(err, &conflict):
		f.Conflict, f.Base = diffView(conflict.Diff), conflict.Current.Number
		return s.renderWiki(w, r, cr, c, http.StatusConflict,
			"Someone saved this page while you were editing it. The changes below turn their text into yours; save again to keep yours.", f)
	case fieldErrors(err) != nil:
		f.Errors = fieldErrors(err)
		return s.renderWiki(w, r, cr, c, http.StatusUnprocessableEntity, "", f)
	case err != nil:
		return err
	}
	return done(w, r, communityPath(c.Name, "wiki"), "wiki")
}

// revertWiki makes an earlier revision current again (moderators).
func (s *Site) revertWiki(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanModerate)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PostFormValue("revision"))
	if err != nil || n < 1 {
		return &statusError{status: http.StatusBadRequest, msg: "Which revision?"}
	}
	if _, err := s.community.RevertWiki(r.Context(), community.Console(cr.user()), c.Name, r.PostFormValue("page"), n); err != nil {
		if fe := fieldErrors(err); fe != nil {
			return s.renderWiki(w, r, cr, c, http.StatusUnprocessableEntity, fe["revision"], wikiForm{})
		}
		return err
	}
	return done(w, r, communityPath(c.Name, "wiki"), "reverted")
}

// setWikiPolicy sets who may edit the wiki on the site (moderators).
func (s *Site) setWikiPolicy(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanModerate)
	if err != nil {
		return err
	}
	if err := s.community.SetWikiPolicy(r.Context(), community.Console(cr.user()), c.Name, r.PostFormValue("policy")); err != nil {
		if fe := fieldErrors(err); fe != nil {
			return s.renderWiki(w, r, cr, c, http.StatusUnprocessableEntity, fe["wiki"], wikiForm{})
		}
		return err
	}
	return done(w, r, communityPath(c.Name, "wiki"), "saved")
}

// decisionForm opens a decision; Closes is a datetime-local in TimeZone.
type decisionForm struct {
	Question string
	Options  string // one per line
	Closes   string
	TimeZone string
	Multiple bool
	Errors   map[string]string
}

type decisionsConsoleView struct {
	Decisions []decisionView
	Form      decisionForm
	TimeZones []string
}

func (s *Site) decisions(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanView)
	if err != nil {
		return err
	}
	return s.renderDecisions(w, r, cr, c, http.StatusOK, decisionForm{TimeZone: "UTC"})
}

func (s *Site) renderDecisions(w http.ResponseWriter, r *http.Request, cr *consoleReq, c storage.Community, status int, f decisionForm) error {
	ds, err := s.community.Decisions(r.Context(), c, 100)
	if err != nil {
		return err
	}
	v := decisionsConsoleView{Form: f, TimeZones: zonesWith(f.TimeZone)}
	for _, d := range ds {
		v.Decisions = append(v.Decisions, decisionOf(d, s.console.now()))
	}
	p := s.communityPage(r, cr, c, "Decisions", "decisions")
	p.Data = v
	return s.renderConsole(w, status, "admin_decisions", p)
}

// openDecision opens a decision, as `coppice decision open` does.
func (s *Site) openDecision(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanModerate)
	if err != nil {
		return err
	}
	f := decisionForm{Question: r.PostFormValue("question"), Options: r.PostFormValue("options"), Closes: strings.TrimSpace(r.PostFormValue("closes")),
		TimeZone: r.PostFormValue("timezone"), Multiple: r.PostFormValue("multiple") == "on"}
	n := community.NewDecision{Question: f.Question, Options: strings.Split(f.Options, "\n"), TimeZone: f.TimeZone, Multiple: f.Multiple}
	loc, err := time.LoadLocation(f.TimeZone)
	if err != nil || f.TimeZone == "" {
		loc = time.UTC
	}
	closes, ok := parseLocal(f.Closes, loc)
	if !ok {
		f.Errors = map[string]string{"closes": "give a date and time"}
		return s.renderDecisions(w, r, cr, c, http.StatusUnprocessableEntity, f)
	}
	n.Closes = closes
	if _, err := s.community.OpenDecision(r.Context(), community.Console(cr.user()), c.Name, n); err != nil {
		if f.Errors = fieldErrors(err); f.Errors != nil {
			return s.renderDecisions(w, r, cr, c, http.StatusUnprocessableEntity, f)
		}
		return err
	}
	return done(w, r, communityPath(c.Name, "decisions"), "decision")
}

// closeDecision closes a decision now, as `coppice decision close` does.
func (s *Site) closeDecision(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanModerate)
	if err != nil {
		return err
	}
	v, err := s.community.Decision(r.Context(), r.PostFormValue("decision"))
	if err != nil || v.Community.ID != c.ID {
		return errNotFound
	}
	if _, err := s.community.CloseDecision(r.Context(), community.Console(cr.user()), v.Decision.IRI); err != nil {
		return err
	}
	return done(w, r, communityPath(c.Name, "decisions"), "closed")
}
