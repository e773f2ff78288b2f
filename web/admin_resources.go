package web

import (
	"errors"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/media"
	"github.com/coppice-dev/coppice/storage"
)

// resourceForm adds a resource: a link, or a file uploaded with it.
type resourceForm struct {
	Kind        string
	Title       string
	Description string
	Tags        string
	URL         string
	hasFile     bool
	Errors      map[string]string
}

func resourceFormFrom(r *http.Request) resourceForm {
	return resourceForm{
		Kind:        r.PostFormValue("kind"),
		Title:       strings.TrimSpace(r.PostFormValue("title")),
		Description: r.PostFormValue("description"),
		Tags:        r.PostFormValue("tags"),
		URL:         strings.TrimSpace(r.PostFormValue("url")),
	}
}

func (f resourceForm) input(by string) community.NewResource {
	return community.NewResource{Kind: f.Kind, Title: f.Title, Description: f.Description, Tags: f.Tags, URL: f.URL, By: by}
}

// Validate returns a message per bad field, or nil: the community layer's
// rules, with a file standing in for the link when one is uploaded.
func (f resourceForm) Validate() map[string]string {
	n := f.input("")
	if f.hasFile {
		n.File.FileHash = "uploaded" // any non-empty hash: the file is saved after validation
	}
	return n.Validate()
}

type resourcesView struct {
	Proposed  []resourceView
	Published []resourceView
	Archived  []resourceView
	Kinds     []string
	Uploads   bool
	Add       resourceForm
}

// resources lists a community's proposed, published and archived
// resources, with the form that adds one.
func (s *Site) resources(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanView)
	if err != nil {
		return err
	}
	return s.renderResources(w, r, cr, c, http.StatusOK, "", resourceForm{Kind: "link"})
}

func (s *Site) renderResources(w http.ResponseWriter, r *http.Request, cr *consoleReq, c storage.Community, status int, problem string, f resourceForm) error {
	v := resourcesView{Kinds: []string{"link", "document", "story", "tool", "method"}, Uploads: s.media != nil, Add: f}
	for _, list := range []struct {
		state string
		into  *[]resourceView
	}{
		{storage.ResourceProposed, &v.Proposed},
		{storage.ResourcePublished, &v.Published},
		{storage.ResourceArchived, &v.Archived},
	} {
		_, rs, err := s.community.Resources(r.Context(), c, list.state, 0, 200)
		if err != nil {
			return err
		}
		for _, res := range rs {
			*list.into = append(*list.into, s.resourceView(res))
		}
	}
	p := s.communityPage(r, cr, c, "Resources", "resources")
	p.Problem, p.Data = problem, v
	return s.renderConsole(w, status, "admin_resources", p)
}

// addResource publishes a link or an uploaded file at once, as `coppice
// resource add` does. The upload goes through internal/media, which checks
// its type by content.
func (s *Site) addResource(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanCurate)
	if err != nil {
		return err
	}
	f := resourceFormFrom(r)
	file, header, err := r.FormFile("file")
	switch {
	case err == nil:
		defer file.Close()
		f.hasFile = true
	case errors.Is(err, http.ErrMissingFile), errors.Is(err, http.ErrNotMultipart):
	default:
		return err
	}
	f.Errors = f.Validate()
	if f.hasFile && s.media == nil {
		if f.Errors == nil {
			f.Errors = map[string]string{}
		}
		f.Errors["file"] = "uploads are turned off on this instance; give a link"
	}
	if f.Errors != nil {
		return s.renderResources(w, r, cr, c, http.StatusUnprocessableEntity, "", f)
	}
	n := f.input(cr.username())
	if f.hasFile {
		if n.File, err = s.saveUpload(r, file, header); err != nil {
			if msg, ok := uploadProblem(err); ok {
				f.Errors = map[string]string{"file": msg}
				return s.renderResources(w, r, cr, c, http.StatusUnprocessableEntity, "", f)
			}
			return err
		}
	}
	res, err := s.community.AddResource(r.Context(), c.Name, n)
	if f.Errors = fieldErrors(err); f.Errors != nil {
		return s.renderResources(w, r, cr, c, http.StatusUnprocessableEntity, "", f)
	}
	if err != nil {
		return err
	}
	s.record(r, cr, "resource add", c.Name, res.IRI, res.Title)
	return done(w, r, communityPath(c.Name, "resources"), "added")
}

func (s *Site) saveUpload(r *http.Request, file multipart.File, header *multipart.FileHeader) (storage.Resource, error) {
	mf, err := s.media.Save(r.Context(), file, header.Filename)
	if err != nil {
		return storage.Resource{}, err
	}
	return storage.Resource{FileHash: mf.Hash, FileExt: mf.Ext, FileName: mf.Name, FileType: mf.ContentType, FileSize: mf.Size}, nil
}

// uploadProblem is what to tell the user about a refused upload.
func uploadProblem(err error) (string, bool) {
	switch {
	case errors.Is(err, media.ErrTooLarge):
		return "the file is too large", true
	case errors.Is(err, media.ErrType):
		return "this kind of file is not accepted (or its content does not match its name)", true
	}
	return "", false
}

// setResourceState publishes or archives a resource of the community, as
// `coppice resource publish|archive` does.
func (s *Site) setResourceState(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanCurate)
	if err != nil {
		return err
	}
	iri, state := r.PostFormValue("resource"), r.PostFormValue("state")
	if state != storage.ResourcePublished && state != storage.ResourceArchived {
		return s.renderResources(w, r, cr, c, http.StatusUnprocessableEntity, "Choose publish or archive.", resourceForm{Kind: "link"})
	}
	_, rc, err := s.community.Resource(r.Context(), iri)
	if err != nil {
		return err
	}
	if rc.ID != c.ID {
		return community.ErrForbidden // a resource of another community
	}
	res, err := s.community.SetResourceState(r.Context(), iri, state, cr.username())
	if err != nil {
		return err
	}
	s.record(r, cr, "resource "+state, c.Name, res.IRI, res.Title)
	if state == storage.ResourcePublished {
		return done(w, r, communityPath(c.Name, "resources"), "published")
	}
	return done(w, r, communityPath(c.Name, "resources"), "unpublished")
}
