package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// WithSignIn turns on signing in to the public site with a fediverse
// account and returns s.
func (s *Site) WithSignIn(si *community.SignIn) *Site {
	s.signin = si
	return s
}

// signInForm is the sign-in form.
type signInForm struct {
	Handle string
	Method string // "link" or "oauth"
	Return string
	Errors map[string]string
}

// signInPage is what the sign-in templates show.
type signInPage struct {
	Form     signInForm
	CSRF     string
	OAuth    bool   // the server-sign-in button is offered
	Problem  string // why the last attempt was refused
	Sent     string // the handle a link was sent to
	Minutes  int
	Instance string // the instance actor's handle, the sender of the message
}

func (s *Site) renderSignIn(w http.ResponseWriter, r *http.Request, status int, p signInPage) error {
	p.OAuth = s.signin.HasOAuth()
	p.Instance = "@coppice.internal@" + s.base.Host
	p.Minutes = int(community.SignInLinkTTL / time.Minute)
	title := "Sign in"
	if p.Sent != "" {
		title = "Check your messages"
	}
	return s.render(w, r, status, "signin", map[string]any{"Title": title, "Page": p})
}

// SignInPage shows the sign-in form (GET /signin).
func (s *Site) SignInPage() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		if s.signin == nil {
			return errNotFound
		}
		ret := localPath(r.URL.Query().Get("return"))
		if _, ok := memberFrom(r); ok {
			http.Redirect(w, r, ret, http.StatusSeeOther)
			return nil
		}
		pre, err := s.preSession(w, r)
		if err != nil {
			return err
		}
		return s.renderSignIn(w, r, http.StatusOK, signInPage{Form: signInForm{Return: ret}, CSRF: signInCSRF(pre)})
	})
}

// SignIn starts a sign-in (POST /signin): a link by direct message, or
// the member's server's authorization page.
func (s *Site) SignIn() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		if s.signin == nil {
			return errNotFound
		}
		if err := s.readForm(w, r); err != nil {
			return err
		}
		c, err := r.Cookie(preSessionCookie)
		if err != nil || !tokensEqual(r.PostFormValue("csrf"), signInCSRF(c.Value)) {
			return errMemberCSRF
		}
		pre := c.Value
		f := signInForm{Handle: strings.TrimSpace(r.PostFormValue("handle")), Method: r.PostFormValue("method"),
			Return: localPath(r.PostFormValue("return"))}
		page := signInPage{Form: f, CSRF: signInCSRF(pre)}
		switch f.Method {
		case "oauth":
			target, err := s.signin.StartOAuth(r.Context(), community.OAuthRequest{
				Handle: f.Handle, ClientKey: clientKey(r), PreSession: pre, RedirectURI: s.oauthRedirectURI(),
			})
			if err != nil {
				return s.signInRefused(w, r, page, err)
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return nil
		case "link", "":
			linkPrefix := s.siteURL("/signin/link", url.Values{"return": {f.Return}}) + "&token="
			sent, err := s.signin.RequestLink(r.Context(), community.LinkRequest{
				Handle: f.Handle, ClientKey: clientKey(r), PreSession: pre,
				LinkPrefix: linkPrefix, SiteName: "Coppice at " + s.base.Host,
			})
			if err != nil {
				return s.signInRefused(w, r, page, err)
			}
			page.Sent = sent.Handle
			return s.renderSignIn(w, r, http.StatusOK, page)
		default:
			return &statusError{status: http.StatusBadRequest, msg: "Choose how to sign in."}
		}
	})
}

// signInRefused shows the form again with why the sign-in was refused, or
// returns err when it is our own failure.
func (s *Site) signInRefused(w http.ResponseWriter, r *http.Request, page signInPage, err error) error {
	var inv *community.InvalidError
	var sie *community.SignInError
	var rle *community.RateLimitError
	switch {
	case errors.As(err, &inv):
		page.Form.Errors = inv.Fields
		return s.renderSignIn(w, r, http.StatusUnprocessableEntity, page)
	case errors.As(err, &rle):
		secs := int((rle.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		page.Problem = fmt.Sprintf("Too many sign-ins for %s. Try again in %d minutes.", rle.What, (secs+59)/60)
		return s.renderSignIn(w, r, http.StatusTooManyRequests, page)
	case errors.As(err, &sie):
		s.log.InfoContext(r.Context(), "sign-in refused", "path", r.URL.Path, "err", err)
		page.Problem = capitalize(sie.Reason) + "."
		return s.renderSignIn(w, r, http.StatusForbidden, page)
	}
	return err
}

// SignInLink signs in the browser that opens a link sent by direct message
// (GET /signin/link?token=…). Only the browser that asked for it can use
// it; anyone else (another browser, a link-preview robot) is refused and
// the link stays usable.
func (s *Site) SignInLink() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		if s.signin == nil {
			return errNotFound
		}
		pre := ""
		if c, err := r.Cookie(preSessionCookie); err == nil {
			pre = c.Value
		}
		token, _, err := s.signin.OpenLink(r.Context(), r.URL.Query().Get("token"), pre)
		if err != nil {
			return s.signInFailed(w, r, err)
		}
		s.signedInAs(w, token)
		http.Redirect(w, r, localPath(r.URL.Query().Get("return")), http.StatusSeeOther)
		return nil
	})
}

// OAuthCallback finishes a sign-in with the member's server (GET
// /signin/oauth/callback?code=…&state=…).
func (s *Site) OAuthCallback() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		if s.signin == nil {
			return errNotFound
		}
		q := r.URL.Query()
		if e := q.Get("error"); e != "" {
			// RFC 6749 §4.1.2.1: the member or the server said no.
			return s.signInFailed(w, r, &community.SignInError{Reason: "your server did not authorize the sign-in"})
		}
		pre := ""
		if c, err := r.Cookie(preSessionCookie); err == nil {
			pre = c.Value
		}
		token, _, err := s.signin.FinishOAuth(r.Context(), community.OAuthCallback{
			State: q.Get("state"), Code: q.Get("code"), PreSession: pre, RedirectURI: s.oauthRedirectURI(),
		})
		if err != nil {
			return s.signInFailed(w, r, err)
		}
		s.signedInAs(w, token)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	})
}

// signInFailed shows why a link or a callback was refused.
func (s *Site) signInFailed(w http.ResponseWriter, r *http.Request, err error) error {
	var sie *community.SignInError
	if !errors.As(err, &sie) {
		return err
	}
	s.log.InfoContext(r.Context(), "sign-in refused", "path", r.URL.Path, "err", err)
	return s.render(w, r, http.StatusForbidden, "error", map[string]any{"Title": "Not signed in",
		"Message": capitalize(sie.Reason) + "."})
}

// signedInAs sets the member cookie and ends the pre-session: a new
// sign-in starts from a fresh one.
func (s *Site) signedInAs(w http.ResponseWriter, token string) {
	http.SetCookie(w, s.siteCookie(memberCookie, token, s.signin.SessionTTL()))
	http.SetCookie(w, s.siteCookie(preSessionCookie, "", -1))
}

// SignOut ends the member's session (POST /signout, with the session's
// CSRF token).
func (s *Site) SignOut() http.Handler {
	return s.asMember(func(w http.ResponseWriter, r *http.Request, _ storage.MemberSession) error {
		c, err := r.Cookie(memberCookie)
		if err != nil {
			return errNotFound
		}
		if err := s.signin.SignOut(r.Context(), c.Value); err != nil {
			return err
		}
		http.SetCookie(w, s.siteCookie(memberCookie, "", -1))
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	})
}

// oauthRedirectURI is where members' servers send the browser back.
func (s *Site) oauthRedirectURI() string { return s.siteURL("/signin/oauth/callback", nil) }

// siteURL is an absolute URL on this site.
func (s *Site) siteURL(path string, q url.Values) string {
	u := *s.base
	u.Path, u.RawQuery = path, q.Encode()
	return u.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
