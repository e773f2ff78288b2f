package web

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// adminPageNames lists the console's templates; each is parsed with
// admin_layout.html.
func adminPageNames() []string {
	return []string{"admin_login", "admin_error", "admin_dashboard", "admin_communities", "admin_community",
		"admin_members", "admin_moderation", "admin_resources", "admin_meetings", "admin_wiki", "admin_decisions", "admin_brokers", "admin_federation",
		"admin_accounts", "admin_audit"}
}

// consoleFuncs are the functions console templates may call.
func consoleFuncs() template.FuncMap {
	return template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return t.UTC().Format("2 Jan 2006 15:04 UTC")
		},
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"resourceList": func(p consolePage, items []resourceView, state string) resourceList {
			return resourceList{Page: p, Items: items, State: state}
		},
		"policyChoices": func() []string { return []string{"block", "silence", "reject_media", "allow", "none"} },
	}
}

// resourceList is one list of the resources page: its items, their state,
// and the page they are on.
type resourceList struct {
	Page  consolePage
	Items []resourceView
	State string
}

// consolePage is what every console template is given.
type consolePage struct {
	Title     string
	Nav       string // the section of the console the page is in
	User      *community.ConsoleUser
	CSRF      string
	Community *consoleCommunity // the community the page is about, if any
	Done      string            // what the last action did
	Problem   string            // why the last action failed, when no field says it
	Data      any
}

// consoleCommunity is the community a console page is about, with what the
// signed-in user may do in it.
type consoleCommunity struct {
	Name        string
	Title       string
	Section     string
	CanModerate bool
	CanCurate   bool
}

// page starts the data of a signed-in page.
func (s *Site) page(r *http.Request, cr *consoleReq, title, nav string) consolePage {
	u := cr.user()
	return consolePage{Title: title, Nav: nav, User: &u, CSRF: cr.session.Session.CSRFToken, Done: doneMessage(r.URL.Query().Get("done"))}
}

// communityPage starts the data of a page about community c.
func (s *Site) communityPage(r *http.Request, cr *consoleReq, c storage.Community, title, section string) consolePage {
	p := s.page(r, cr, title+" · "+c.Title, "communities")
	u := cr.user()
	p.Community = &consoleCommunity{Name: c.Name, Title: c.Title, Section: section,
		CanModerate: u.May(c, community.CanModerate), CanCurate: u.May(c, community.CanCurate)}
	return p
}

// renderConsole executes a console page into a buffer first, so a template
// error never sends half a page. Console pages are never cached and never
// framed, and their forms post only to this site.
func (s *Site) renderConsole(w http.ResponseWriter, status int, page string, data consolePage) error {
	var buf bytes.Buffer
	if err := s.pages[page].Execute(&buf, data); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// statusError is an answer with a status and a message for the user.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// problemOf tells whether err breaks a rule the user can fix, with the
// status and the message to show next to the form.
func problemOf(err error) (int, string, bool) {
	var invalid *community.InvalidError
	var refused *community.RefusedError
	switch {
	case errors.As(err, &invalid):
		return http.StatusUnprocessableEntity, "Check the form: " + invalid.Error() + ".", true
	case errors.As(err, &refused):
		return http.StatusConflict, refused.Reason + ".", true
	case errors.Is(err, community.ErrConflict):
		return http.StatusConflict, "That exists already.", true
	case errors.Is(err, community.ErrNotFound):
		return http.StatusNotFound, "There is no such thing here any more; reload the page.", true
	}
	return 0, "", false
}

// fieldErrors returns the field messages of an InvalidError.
func fieldErrors(err error) map[string]string {
	var invalid *community.InvalidError
	if errors.As(err, &invalid) {
		return invalid.Fields
	}
	return nil
}

// consoleError renders err as a console error page and logs what is our
// own failure.
func (s *Site) consoleError(w http.ResponseWriter, r *http.Request, cr *consoleReq, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client left
	}
	status, msg := http.StatusInternalServerError, "Something went wrong on our side."
	var se *statusError
	switch {
	case errors.As(err, &se):
		status, msg = se.status, se.msg
	case errors.Is(err, community.ErrForbidden):
		status, msg = http.StatusForbidden, "You may not do that here."
	case errors.Is(err, storage.ErrBusy):
		status, msg = http.StatusServiceUnavailable, "The database is busy. Try again in a moment."
	default:
		if st, m, ok := problemOf(err); ok {
			status, msg = st, m
		}
	}
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "console request", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	p := consolePage{Title: http.StatusText(status), Problem: msg}
	if cr != nil {
		u := cr.user()
		p.User, p.CSRF = &u, cr.session.Session.CSRFToken
	}
	if rerr := s.renderConsole(w, status, "admin_error", p); rerr != nil {
		s.log.ErrorContext(r.Context(), "render console error page", "err", rerr)
	}
}

// record writes a console action to the audit log. The action is done
// already, so a failure to record it is logged, not shown.
func (s *Site) record(r *http.Request, cr *consoleReq, action, communityName, target, detail string) {
	err := s.community.Audit(r.Context(), storage.AuditEntry{Username: cr.username(), Action: action, Community: communityName, Target: target, Detail: detail})
	if err != nil {
		s.log.ErrorContext(r.Context(), "record console action", "community", communityName, "err", err)
	}
}

// done redirects after a successful POST to page, which shows what
// happened (Post/Redirect/Get: reloading does not send the form again).
func done(w http.ResponseWriter, r *http.Request, page, what string) error {
	http.Redirect(w, r, page+"?done="+what, http.StatusSeeOther)
	return nil
}

// doneMessage is the notice for a done code; unknown codes show nothing,
// so a link cannot make the console say anything else.
func doneMessage(code string) string {
	switch code {
	case "created":
		return "Created."
	case "saved":
		return "Saved."
	case "archived":
		return "Archived: the community takes no new members and only its moderators may post."
	case "restored":
		return "Restored. The community is still closed: open it again below."
	case "approved":
		return "Request approved: an Accept is on its way to the follower's server."
	case "rejected":
		return "Request rejected."
	case "role":
		return "Role set."
	case "banned":
		return "Banned."
	case "unbanned":
		return "Ban lifted."
	case "resolved":
		return "Report resolved."
	case "added":
		return "Resource published."
	case "published":
		return "Resource published."
	case "unpublished":
		return "Resource archived."
	case "scheduled":
		return "Meeting scheduled and announced to the followers."
	case "wiki":
		return "Page saved and sent to the followers."
	case "reverted":
		return "Page reverted: the earlier text is the current revision again."
	case "decision":
		return "Decision opened and sent to the followers as a poll."
	case "closed":
		return "Decision closed; its result is kept."
	case "cancelled":
		return "Meeting cancelled."
	case "updated":
		return "Meeting updated and the change sent to the followers."
	case "shared":
		return "Shared: the community announces it to its followers."
	case "mode":
		return "Federation mode set."
	case "policy":
		return "Domain policy set."
	case "retried":
		return "Deliveries to that host are due now."
	case "account":
		return "Account created."
	case "steward":
		return "Steward set."
	case "unsteward":
		return "Steward removed."
	case "deleted":
		return "Account deleted."
	}
	return ""
}

// communityFor returns the community the path names if the signed-in user
// may do what in it, ErrForbidden otherwise.
func (s *Site) communityFor(r *http.Request, cr *consoleReq, what community.Capability) (storage.Community, error) {
	c, err := s.community.Community(r.Context(), pathVar(r, "name"))
	if err != nil {
		return storage.Community{}, err
	}
	if !cr.user().May(c, what) {
		return storage.Community{}, community.ErrForbidden
	}
	return c, nil
}

// adminOnly refuses a steward.
func adminOnly(cr *consoleReq) error {
	if !cr.user().IsAdmin() {
		return community.ErrForbidden
	}
	return nil
}

// communityPath is the console path of a community's page.
func communityPath(name, section string) string {
	p := "/admin/communities/" + name
	if section != "" {
		p += "/" + section
	}
	return p
}
