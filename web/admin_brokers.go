package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// shareForm shares an object from elsewhere into a community.
type shareForm struct {
	Object string
	Source string
	Errors map[string]string
}

func shareFormFrom(r *http.Request) shareForm {
	return shareForm{
		Object: strings.TrimSpace(r.PostFormValue("object")),
		Source: strings.TrimSpace(r.PostFormValue("source")),
	}
}

// Validate returns a message per bad field, or nil.
func (f shareForm) Validate() map[string]string {
	errs := map[string]string{}
	if f.Object == "" {
		errs["object"] = "required"
	} else if !isHTTPURL(f.Object) {
		errs["object"] = "must be an http(s) URL"
	}
	if f.Source != "" && !isHTTPURL(f.Source) {
		errs["source"] = "must be an http(s) URL, or empty"
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// maxShareURL bounds the URLs of the share form, as the inputs do.
const maxShareURL = 2000

// isHTTPURL reports whether v is an absolute http or https URL with a
// host.
func isHTTPURL(v string) bool {
	if len(v) > maxShareURL {
		return false
	}
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

type brokersView struct {
	Related []storage.Related
	Shares  []storage.Share
	Form    shareForm
}

// brokers lists the communities a community follows and what its brokers
// shared into it, with the form that shares something more.
func (s *Site) brokers(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanCurate)
	if err != nil {
		return err
	}
	return s.renderBrokers(w, r, cr, c, http.StatusOK, shareForm{})
}

func (s *Site) renderBrokers(w http.ResponseWriter, r *http.Request, cr *consoleReq, c storage.Community, status int, f shareForm) error {
	related, err := s.community.RelatedCommunities(r.Context(), c)
	if err != nil {
		return err
	}
	shares, err := s.community.Shares(r.Context(), c)
	if err != nil {
		return err
	}
	p := s.communityPage(r, cr, c, "Brokers", "brokers")
	p.Data = brokersView{Related: related, Shares: shares, Form: f}
	return s.renderConsole(w, status, "admin_brokers", p)
}

// share announces an object from elsewhere into the community on behalf
// of the signed-in user, as `coppice broker share` does. The community
// layer accepts any console name as the broker, so the check that the
// user brokers or moderates this community is the one done here.
func (s *Site) share(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanCurate)
	if err != nil {
		return err
	}
	f := shareFormFrom(r)
	if f.Errors = f.Validate(); f.Errors != nil {
		return s.renderBrokers(w, r, cr, c, http.StatusUnprocessableEntity, f)
	}
	sh, err := s.community.Share(r.Context(), c.Name, f.Object, f.Source, cr.username())
	var refused *community.RefusedError
	if errors.As(err, &refused) {
		f.Errors = map[string]string{"object": refused.Reason}
		return s.renderBrokers(w, r, cr, c, http.StatusConflict, f)
	}
	if err != nil {
		return err
	}
	s.record(r, cr, "broker share", c.Name, sh.ObjectIRI, sh.SourceIRI)
	return done(w, r, communityPath(c.Name, "brokers"), "shared")
}
