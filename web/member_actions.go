package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// What members signed in on the site do: edit the wiki, vote in
// decisions, answer meetings, propose resources. Each goes to the
// community layer with the member as principal; the community decides
// whether the member may, exactly as for the same act from the fediverse.

// withCSRF adds what every member form needs: the session's CSRF token.
func withCSRF(m storage.MemberSession, data map[string]any) map[string]any {
	data["CSRF"] = m.CSRFToken
	return data
}

// WikiEdit shows the form to write a page (slug "new") or edit one.
func (s *Site) WikiEdit() http.Handler {
	return s.asMember(func(w http.ResponseWriter, r *http.Request, m storage.MemberSession) error {
		c, err := s.community.Community(r.Context(), pathVar(r, "name"))
		if err != nil {
			return err
		}
		f := wikiForm{}
		if slug := pathVar(r, "slug"); slug != "" && slug != "new" {
			v, err := s.community.WikiPage(r.Context(), c.Name, slug, 0)
			if err != nil {
				return err
			}
			f = wikiForm{Slug: v.Page.Slug, Title: v.Page.Title, Body: v.Revision.Body, Base: v.Page.Revision}
		}
		return s.renderWikiEdit(w, r, m, c, http.StatusOK, "", f)
	})
}

func (s *Site) renderWikiEdit(w http.ResponseWriter, r *http.Request, m storage.MemberSession, c storage.Community, status int, problem string, f wikiForm) error {
	title := "Write a wiki page"
	if f.Base > 0 {
		title = "Edit " + f.Title
	}
	return s.render(w, r, status, "wiki_edit", withCSRF(m, map[string]any{"Title": title, "Community": s.view(c), "Form": f, "Problem": problem}))
}

// WikiSave saves a page as the signed-in member.
func (s *Site) WikiSave() http.Handler {
	return s.asMember(func(w http.ResponseWriter, r *http.Request, m storage.MemberSession) error {
		c, err := s.community.Community(r.Context(), pathVar(r, "name"))
		if err != nil {
			return err
		}
		f := wikiFormFrom(r)
		if slug := pathVar(r, "slug"); slug != "new" {
			f.Slug = slug
		}
		page, err := s.community.EditWiki(r.Context(), community.Member(m.ActorIRI), c.Name, community.WikiEdit{
			Slug: f.Slug, Title: f.Title, Body: f.Body, Summary: f.Summary, Base: f.Base,
		})
		var conflict *community.WikiConflict
		var refused *community.RefusedError
		switch {
		case errors.As(err, &conflict):
			f.Conflict, f.Base = diffView(conflict.Diff), conflict.Current.Number
			return s.renderWikiEdit(w, r, m, c, http.StatusConflict,
				"Someone saved this page while you were editing it. The changes below turn their text into yours; save again to keep yours.", f)
		case fieldErrors(err) != nil:
			f.Errors = fieldErrors(err)
			return s.renderWikiEdit(w, r, m, c, http.StatusUnprocessableEntity, "", f)
		case errors.As(err, &refused):
			return s.renderWikiEdit(w, r, m, c, http.StatusForbidden, refused.Reason, f)
		case err != nil:
			return err
		}
		http.Redirect(w, r, "/c/"+c.Name+"/wiki/"+page.Slug, http.StatusSeeOther)
		return nil
	})
}

// WikiRevert makes an earlier revision current again (moderators).
func (s *Site) WikiRevert() http.Handler {
	return s.asMember(func(w http.ResponseWriter, r *http.Request, m storage.MemberSession) error {
		n, err := strconv.Atoi(r.PostFormValue("revision"))
		if err != nil || n < 1 {
			return badRequest("Which revision?")
		}
		page, err := s.community.RevertWiki(r.Context(), community.Member(m.ActorIRI), pathVar(r, "name"), pathVar(r, "slug"), n)
		if err != nil {
			return memberProblem(err)
		}
		http.Redirect(w, r, "/c/"+pathVar(r, "name")+"/wiki/"+page.Slug+"/history", http.StatusSeeOther)
		return nil
	})
}

// DecisionVote records the signed-in member's vote.
func (s *Site) DecisionVote() http.Handler {
	return s.asMember(func(w http.ResponseWriter, r *http.Request, m storage.MemberSession) error {
		iri := strings.TrimSuffix(s.objectIRI(r), "/vote")
		if err := s.community.VoteDecision(r.Context(), community.Member(m.ActorIRI), community.Incoming{}, iri, r.PostForm["option"]); err != nil {
			return memberProblem(err)
		}
		u, _ := url.Parse(iri)
		http.Redirect(w, r, u.Path+"?voted=1", http.StatusSeeOther)
		return nil
	})
}

// MeetingAnswer records the signed-in member's answer to a meeting.
func (s *Site) MeetingAnswer() http.Handler {
	return s.asMember(func(w http.ResponseWriter, r *http.Request, m storage.MemberSession) error {
		iri := strings.TrimSuffix(s.objectIRI(r), "/answer")
		if err := s.community.AnswerMeeting(r.Context(), community.Member(m.ActorIRI), iri, r.PostFormValue("answer")); err != nil {
			return memberProblem(err)
		}
		u, _ := url.Parse(iri)
		http.Redirect(w, r, u.Path+"?answered=1", http.StatusSeeOther)
		return nil
	})
}

// Propose shows (GET) and takes (POST) a resource proposal by the
// signed-in member: a link, or a file up to the upload limit.
func (s *Site) Propose() http.Handler {
	return s.asMember(func(w http.ResponseWriter, r *http.Request, m storage.MemberSession) error {
		c, err := s.community.Community(r.Context(), pathVar(r, "name"))
		if err != nil {
			return err
		}
		data := withCSRF(m, map[string]any{"Title": "Propose a resource", "Community": s.view(c), "Kinds": community.ResourceKinds(), "Errors": map[string]string{}})
		if r.Method != http.MethodPost {
			data["Form"] = map[string]string{"Kind": "link"}
			return s.render(w, r, http.StatusOK, "propose", data)
		}
		n := community.NewResource{Kind: r.PostFormValue("kind"), Title: r.PostFormValue("title"), Description: r.PostFormValue("description"),
			Tags: r.PostFormValue("tags"), URL: strings.TrimSpace(r.PostFormValue("url")), By: m.ActorIRI}
		data["Form"] = map[string]string{"Kind": n.Kind, "Title": n.Title, "Description": n.Description, "Tags": n.Tags, "URL": n.URL}
		// Membership first: an upload from someone who may not propose is
		// never stored.
		if st, err := s.community.SiteMember(r.Context(), c, m.ActorIRI); err != nil || !st.Member {
			data["Problem"] = "Only members of this community may propose resources: follow it from your server first."
			return s.render(w, r, http.StatusForbidden, "propose", data)
		}
		file, header, err := r.FormFile("file")
		switch {
		case err == nil:
			defer file.Close()
			if s.media == nil {
				data["Errors"] = map[string]string{"file": "uploads are turned off on this instance; give a link"}
				return s.render(w, r, http.StatusUnprocessableEntity, "propose", data)
			}
			if n.File, err = s.saveUpload(r, file, header); err != nil {
				if msg, ok := uploadProblem(err); ok {
					data["Errors"] = map[string]string{"file": msg}
					return s.render(w, r, http.StatusUnprocessableEntity, "propose", data)
				}
				return err
			}
		case errors.Is(err, http.ErrMissingFile), errors.Is(err, http.ErrNotMultipart):
		default:
			return err
		}
		_, err = s.community.ProposeResource(r.Context(), community.Member(m.ActorIRI), c.Name, n)
		var refused *community.RefusedError
		switch {
		case fieldErrors(err) != nil:
			data["Errors"] = fieldErrors(err)
			return s.render(w, r, http.StatusUnprocessableEntity, "propose", data)
		case errors.As(err, &refused):
			data["Problem"] = refused.Reason
			return s.render(w, r, http.StatusForbidden, "propose", data)
		case err != nil:
			return err
		}
		data["Done"] = true
		return s.render(w, r, http.StatusOK, "propose", data)
	})
}

// memberProblem turns the community's refusals into answers a member can
// read: a rule (403 with its reason) or a bad field (400).
func memberProblem(err error) error {
	var refused *community.RefusedError
	var invalid *community.InvalidError
	switch {
	case errors.As(err, &refused):
		return &statusError{status: http.StatusForbidden, msg: refused.Reason}
	case errors.As(err, &invalid):
		var msgs []string
		for _, v := range invalid.Fields {
			msgs = append(msgs, v)
		}
		return badRequest(strings.Join(msgs, " "))
	case errors.Is(err, community.ErrForbidden):
		return &statusError{status: http.StatusForbidden, msg: "Only moderators of this community may do that."}
	}
	return err
}
