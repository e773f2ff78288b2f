package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// Cookies of members signed in to the public site. Both cover the whole
// site, are HttpOnly, SameSite=Lax (they must come along when the member
// follows the link in their direct message, or comes back from their
// server's authorization page: both are top-level navigations from
// another site) and Secure under an https base URL.
const (
	memberCookie     = "coppice_member"     // the member session's token
	preSessionCookie = "coppice_presession" // the browser that asked to sign in
)

// memberKey is the context key of the signed-in member of a request.
type memberKey struct{}

// memberFrom returns the actor IRI of the member signed in to the site
// who sent r, if any. It works in every public page handler (every handler
// wrapped by Site.serve or Site.asMember). Use it to show what a member
// may do; a handler that changes state goes through asMember instead, which
// also checks the form's CSRF token, and then asks
// community.Service.SiteMember whether the member may use the community's
// features (a banned actor may sign in, but not act).
func memberFrom(r *http.Request) (actorIRI string, ok bool) {
	m, ok := memberSessionFrom(r)
	return m.ActorIRI, ok
}

// memberSessionFrom returns the whole member session of r: the actor, the
// handle to show, and the CSRF token forms must carry.
func memberSessionFrom(r *http.Request) (storage.MemberSession, bool) {
	m, ok := r.Context().Value(memberKey{}).(storage.MemberSession)
	return m, ok
}

// withMember returns r carrying its member session, when its cookie names
// a live one.
func (s *Site) withMember(r *http.Request) (*http.Request, error) {
	if s.signin == nil {
		return r, nil
	}
	c, err := r.Cookie(memberCookie)
	if err != nil {
		return r, nil
	}
	m, err := s.signin.Member(r.Context(), c.Value)
	if errors.Is(err, community.ErrNotFound) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	return r.WithContext(context.WithValue(r.Context(), memberKey{}, m)), nil
}

// memberFunc is a handler for signed-in members.
type memberFunc func(w http.ResponseWriter, r *http.Request, m storage.MemberSession) error

// asMember adapts a handler that only signed-in members may use: without a
// member session a GET is sent to the sign-in page and a POST is refused;
// a POST has its body limited and parsed and its CSRF token (the form
// field csrf) checked against the session's before fn runs. Errors become
// HTML error pages, as with serve.
func (s *Site) asMember(fn memberFunc) http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		m, ok := memberSessionFrom(r)
		if !ok {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, signInURL(r.URL.Path), http.StatusSeeOther)
				return nil
			}
			return &statusError{status: http.StatusForbidden, msg: "Sign in first."}
		}
		if r.Method == http.MethodPost {
			if err := s.readForm(w, r); err != nil {
				return err
			}
			if err := checkCSRF(r, m.CSRFToken); err != nil {
				return errMemberCSRF
			}
		}
		return fn(w, r, m)
	})
}

// errMemberCSRF answers a site form whose CSRF token is missing or wrong.
var errMemberCSRF = &statusError{status: http.StatusForbidden,
	msg: "This form expired or did not come from this site. Go back, reload the page and send it again."}

// viewer is what the layout shows of who is reading: "Signed in as" and a
// sign-out button, or a sign-in link.
type viewer struct {
	Handle string // @name@host; "" when nobody is signed in
	CSRF   string // the member session's CSRF token
	SignIn string // the sign-in page, coming back to this one
}

// viewerOf returns the viewer of r, or nil when signing in is off.
func (s *Site) viewerOf(r *http.Request) *viewer {
	if s.signin == nil || r == nil {
		return nil
	}
	if m, ok := memberSessionFrom(r); ok {
		return &viewer{Handle: m.Handle, CSRF: m.CSRFToken}
	}
	return &viewer{SignIn: signInURL(r.URL.Path)}
}

// signInURL is the sign-in page, coming back to path afterwards.
func signInURL(path string) string {
	if path == "" || path == "/" || strings.HasPrefix(path, "/signin") {
		return "/signin"
	}
	return "/signin?" + url.Values{"return": {path}}.Encode()
}

// localPath returns p when it is a path on this site, else "/": a return
// address must never send the browser elsewhere (FET-12).
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t") || len(p) > 512 {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return p
}

// siteCookie builds a cookie of the public site: HttpOnly, SameSite=Lax,
// path /, Secure when the base URL is https. maxAge < 0 deletes it.
func (s *Site) siteCookie(name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: s.console.secure, SameSite: http.SameSiteLaxMode}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge.Seconds())
	}
	return c
}

// preSession returns the token of the browser's pre-session cookie, making
// one when there is none. The sign-in form's CSRF token is derived from it
// (signInCSRF), and every sign-in the browser starts is bound to it.
func (s *Site) preSession(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(preSessionCookie); err == nil && len(c.Value) == 43 {
		return c.Value, nil
	}
	token, err := community.NewToken()
	if err != nil {
		return "", err
	}
	http.SetCookie(w, s.siteCookie(preSessionCookie, token, time.Hour))
	return token, nil
}

// signInCSRF is the sign-in form's CSRF token: a hash of the pre-session
// token, so a page of another site, which cannot read the cookie, cannot
// forge it, and the page never shows the pre-session token itself.
func signInCSRF(preSession string) string {
	sum := sha256.Sum256([]byte("coppice sign-in form\x00" + preSession))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
