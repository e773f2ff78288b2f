package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// personRow is a remote actor as the console lists it.
type personRow struct {
	IRI    string
	Handle string
	Name   string
	Role   string
	Reason string
	By     string
	At     time.Time
}

// banForm bans an actor, given by IRI or @name@host.
type banForm struct {
	Actor  string
	Reason string
	Errors map[string]string
}

// maxBanReason limits the reason of a ban, which is federated.
const maxBanReason = 500

// Validate returns a message per bad field, or nil.
func (f banForm) Validate() map[string]string {
	errs := map[string]string{}
	if f.Actor == "" {
		errs["actor"] = "required"
	} else if len(f.Actor) > 1000 {
		errs["actor"] = "too long"
	}
	if utf8.RuneCountInString(f.Reason) > maxBanReason {
		errs["reason"] = fmt.Sprintf("at most %d characters", maxBanReason)
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

type membersView struct {
	Pending []personRow
	Members []personRow
	Total   int
	Bans    []personRow
	Roles   []string
	Ban     banForm
}

// members lists a community's pending requests, members with their roles,
// and bans.
func (s *Site) members(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanView)
	if err != nil {
		return err
	}
	return s.renderMembers(w, r, cr, c, http.StatusOK, "", banForm{})
}

func (s *Site) renderMembers(w http.ResponseWriter, r *http.Request, cr *consoleReq, c storage.Community, status int, problem string, ban banForm) error {
	ctx := r.Context()
	pending, err := s.community.PendingFollows(ctx, c.Name)
	if err != nil {
		return err
	}
	total, members, err := s.community.Members(ctx, c, 0, 500)
	if err != nil {
		return err
	}
	bans, err := s.community.Bans(ctx, c)
	if err != nil {
		return err
	}
	var iris []string
	for _, f := range pending {
		iris = append(iris, f.ActorIRI)
	}
	for _, m := range members {
		iris = append(iris, m.ActorIRI)
	}
	for _, b := range bans {
		iris = append(iris, b.ActorIRI)
	}
	actors, err := s.community.KnownActors(ctx, iris)
	if err != nil {
		return err
	}
	person := func(iri string) personRow {
		a := actors[iri]
		return personRow{IRI: iri, Handle: handleOf(a, iri), Name: a.Name}
	}
	v := membersView{Total: total, Ban: ban, Roles: []string{storage.RoleMember, storage.RoleBroker, storage.RoleModerator, storage.RoleOwner}}
	for _, f := range pending {
		row := person(f.ActorIRI)
		row.At = f.CreatedAt
		v.Pending = append(v.Pending, row)
	}
	for _, m := range members {
		row := person(m.ActorIRI)
		row.Role, row.At = m.Role, m.Since
		v.Members = append(v.Members, row)
	}
	for _, b := range bans {
		row := person(b.ActorIRI)
		row.Reason, row.By, row.At = b.Reason, b.By, b.At
		v.Bans = append(v.Bans, row)
	}
	p := s.communityPage(r, cr, c, "Members", "members")
	p.Problem, p.Data = problem, v
	return s.renderConsole(w, status, "admin_members", p)
}

// decideFollow approves or rejects a pending follow request, as `coppice
// community approve|reject` does.
func (s *Site) decideFollow(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanModerate)
	if err != nil {
		return err
	}
	actor := r.PostFormValue("actor")
	approve := strings.HasSuffix(r.URL.Path, "/approve")
	if approve {
		err = s.community.ApproveFollow(r.Context(), community.Console(cr.user()), c.Name, actor)
	} else {
		err = s.community.RejectFollow(r.Context(), community.Console(cr.user()), c.Name, actor)
	}
	if status, msg, ok := problemOf(err); ok {
		return s.renderMembers(w, r, cr, c, status, msg, banForm{})
	}
	if err != nil {
		return err
	}
	if approve { // the community layer wrote the audit row with the change
		return done(w, r, communityPath(c.Name, "members"), "approved")
	}
	return done(w, r, communityPath(c.Name, "members"), "rejected")
}

// setRole gives a member a role.
func (s *Site) setRole(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanModerate)
	if err != nil {
		return err
	}
	actor, role := r.PostFormValue("actor"), r.PostFormValue("role")
	err = s.community.SetRole(r.Context(), community.Console(cr.user()), c.Name, actor, role)
	if status, msg, ok := problemOf(err); ok {
		return s.renderMembers(w, r, cr, c, status, msg, banForm{})
	}
	if err != nil {
		return err
	}
	return done(w, r, communityPath(c.Name, "members"), "role")
}

// ban bans an actor we know of from the community.
func (s *Site) ban(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanModerate)
	if err != nil {
		return err
	}
	f := banForm{Actor: strings.TrimSpace(r.PostFormValue("actor")), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	if f.Errors = f.Validate(); f.Errors != nil {
		return s.renderMembers(w, r, cr, c, http.StatusUnprocessableEntity, "", f)
	}
	iri, err := s.community.ResolveActor(r.Context(), f.Actor)
	if errors.Is(err, community.ErrNotFound) {
		f.Errors = map[string]string{"actor": "not known here: they must have followed or posted to this instance"}
		return s.renderMembers(w, r, cr, c, http.StatusUnprocessableEntity, "", f)
	}
	if errs := fieldErrors(err); errs != nil {
		f.Errors = errs
		return s.renderMembers(w, r, cr, c, http.StatusUnprocessableEntity, "", f)
	}
	if err != nil {
		return err
	}
	if err := s.community.Ban(r.Context(), community.Console(cr.user()), c.Name, iri, f.Reason); err != nil {
		return err
	}
	return done(w, r, communityPath(c.Name, "members"), "banned")
}

// unban lifts a ban.
func (s *Site) unban(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanModerate)
	if err != nil {
		return err
	}
	actor := r.PostFormValue("actor")
	if err := s.community.Unban(r.Context(), community.Console(cr.user()), c.Name, actor); err != nil {
		return err
	}
	return done(w, r, communityPath(c.Name, "members"), "unbanned")
}

// reportRow is an open report as the console lists it.
type reportRow struct {
	ID       int64
	Reporter personRow
	Objects  []string
	Reason   string
	At       time.Time
}

type moderationView struct {
	Held    []heldRow
	Reports []reportRow
	Log     []storage.LogEntry
}

// heldRow is a post waiting for a moderator, as the console lists it.
type heldRow struct {
	community.HeldPost
	Author personRow
	HTML   template.HTML // Content, sanitized by HeldPosts
}

// moderation shows a community's open reports and its moderation log.
func (s *Site) moderation(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanView)
	if err != nil {
		return err
	}
	return s.renderModeration(w, r, cr, c, http.StatusOK, "")
}

func (s *Site) renderModeration(w http.ResponseWriter, r *http.Request, cr *consoleReq, c storage.Community, status int, problem string) error {
	ctx := r.Context()
	reports, err := s.community.Reports(ctx, c.Name)
	if err != nil {
		return err
	}
	log, err := s.community.ModerationLog(ctx, c)
	if err != nil {
		return err
	}
	held, err := s.community.HeldPosts(ctx, c)
	if err != nil {
		return err
	}
	var iris []string
	for _, rep := range reports {
		iris = append(iris, rep.ReporterIRI)
	}
	for _, h := range held {
		iris = append(iris, h.AuthorIRI)
	}
	actors, err := s.community.KnownActors(ctx, iris)
	if err != nil {
		return err
	}
	v := moderationView{Log: log}
	for _, h := range held {
		v.Held = append(v.Held, heldRow{HeldPost: h, Author: personRow{IRI: h.AuthorIRI, Handle: handleOf(actors[h.AuthorIRI], h.AuthorIRI)},
			HTML: template.HTML(h.Content)})
	}
	for _, rep := range reports {
		a := actors[rep.ReporterIRI]
		v.Reports = append(v.Reports, reportRow{ID: rep.ID, Reporter: personRow{IRI: rep.ReporterIRI, Handle: handleOf(a, rep.ReporterIRI)},
			Objects: rep.Objects, Reason: rep.Reason, At: rep.CreatedAt})
	}
	p := s.communityPage(r, cr, c, "Moderation", "moderation")
	p.Problem, p.Data = problem, v
	return s.renderConsole(w, status, "admin_moderation", p)
}

// resolveReport dismisses a report, removes what it reports, or removes it
// and bans its authors.
func (s *Site) resolveReport(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanModerate)
	if err != nil {
		return err
	}
	id, err := parseID(r.PostFormValue("report"))
	if err != nil {
		return s.renderModeration(w, r, cr, c, http.StatusUnprocessableEntity, "That report does not exist.")
	}
	rep, err := s.community.ReportByID(r.Context(), id)
	if err != nil {
		return err
	}
	if rep.CommunityID != c.ID {
		return community.ErrForbidden // a report of another community
	}
	resolution := r.PostFormValue("resolution")
	_, err = s.community.ResolveReport(r.Context(), community.Console(cr.user()), id, resolution)
	if status, msg, ok := problemOf(err); ok {
		return s.renderModeration(w, r, cr, c, status, msg)
	}
	if err != nil {
		return err
	}
	return done(w, r, communityPath(c.Name, "moderation"), "resolved")
}

// reviewHeld approves or rejects a post waiting for a moderator (GRP-06).
func (s *Site) reviewHeld(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanModerate)
	if err != nil {
		return err
	}
	id, err := parseID(r.PostFormValue("post"))
	if err != nil {
		return s.renderModeration(w, r, cr, c, http.StatusUnprocessableEntity, "That post is not waiting for approval.")
	}
	var approve bool
	switch r.PostFormValue("decision") {
	case "approve":
		approve = true
	case "reject":
	default:
		return s.renderModeration(w, r, cr, c, http.StatusUnprocessableEntity, "Approve or reject the post.")
	}
	err = s.community.ReviewHeld(r.Context(), community.Console(cr.user()), c.Name, id, approve)
	if errors.Is(err, storage.ErrNotFound) {
		return s.renderModeration(w, r, cr, c, http.StatusNotFound, "That post is not waiting for approval.")
	}
	if status, msg, ok := problemOf(err); ok {
		return s.renderModeration(w, r, cr, c, status, msg)
	}
	if err != nil {
		return err
	}
	if approve {
		return done(w, r, communityPath(c.Name, "moderation"), "approved")
	}
	return done(w, r, communityPath(c.Name, "moderation"), "rejected")
}
