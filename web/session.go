package web

import (
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coppice-dev/coppice/internal/community"
)

// Cookies of the console. Both are scoped to /admin.
const (
	sessionCookie = "coppice_session" // the session token
	loginCookie   = "coppice_login"   // the login form's CSRF token, before there is a session
)

// maxFormBytes limits a console form without a file.
const maxFormBytes = 64 << 10

// consoleReq is a signed-in console request: who sent it, with which
// session.
type consoleReq struct {
	token   string
	session community.ConsoleSession
}

func (cr *consoleReq) user() community.ConsoleUser { return cr.session.User }
func (cr *consoleReq) username() string            { return cr.session.User.Account.Username }

type consoleFunc func(w http.ResponseWriter, r *http.Request, cr *consoleReq) error

// signedIn adapts a console handler: without a live session it redirects
// to the login page; a POST has its body limited and parsed and its CSRF
// token checked before fn runs. Errors become console error pages.
func (s *Site) signedIn(fn consoleFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cr, err := s.consoleSession(r)
		if errors.Is(err, community.ErrNotFound) {
			http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
			return
		}
		if err == nil && r.Method == http.MethodPost {
			if err = s.readForm(w, r); err == nil {
				err = checkCSRF(r, cr.session.Session.CSRFToken)
			}
		}
		if err == nil {
			err = fn(w, r, cr)
		}
		if err != nil {
			s.consoleError(w, r, cr, err)
		}
	})
}

// serveConsole adapts a console handler that needs no session.
func (s *Site) serveConsole(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			s.consoleError(w, r, nil, err)
		}
	})
}

// consoleSession returns the live session of the request's cookie, or
// ErrNotFound.
func (s *Site) consoleSession(r *http.Request) (*consoleReq, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, community.ErrNotFound
	}
	cs, err := s.community.Session(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	return &consoleReq{token: c.Value, session: cs}, nil
}

// readForm limits and parses a POST body: a multipart form may carry an
// upload of up to maxUpload bytes, any other form maxFormBytes.
func (s *Site) readForm(w http.ResponseWriter, r *http.Request) error {
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		r.Body = http.MaxBytesReader(w, r.Body, s.console.maxUpload+maxFormBytes)
		err = r.ParseMultipartForm(1 << 20)
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		err = r.ParseForm()
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &statusError{status: http.StatusRequestEntityTooLarge, msg: "That form is too large."}
	}
	if err != nil {
		return &statusError{status: http.StatusBadRequest, msg: "That form could not be read."}
	}
	// PAR-07: a percent-encoded byte that is not UTF-8 (%FF) decodes to
	// text PostgreSQL refuses to store, and no page could show it.
	for k, vs := range r.Form {
		if !utf8.ValidString(k) || slices.ContainsFunc(vs, func(v string) bool { return !utf8.ValidString(v) }) {
			return &statusError{status: http.StatusBadRequest, msg: "That form holds text that is not UTF-8."}
		}
	}
	return nil
}

// cookie builds a console cookie: HttpOnly, scoped to /admin, Secure when
// the base URL is https. maxAge < 0 deletes it.
func (s *Site) cookie(name, value string, maxAge time.Duration, sameSite http.SameSite) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/admin", HttpOnly: true, Secure: s.console.secure, SameSite: sameSite}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge.Seconds())
	}
	return c
}

// loginForm is the console's login form.
type loginForm struct {
	Username string
	Password string
	Errors   map[string]string
}

// Validate returns a message per missing field, or nil.
func (f loginForm) Validate() map[string]string {
	errs := map[string]string{}
	if f.Username == "" {
		errs["username"] = "required"
	}
	if f.Password == "" {
		errs["password"] = "required"
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// loginPage shows the login form, with a fresh double-submit CSRF token in
// a cookie and in the form.
func (s *Site) loginPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.consoleSession(r); err == nil {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return nil
	}
	token, err := s.loginToken(w, r)
	if err != nil {
		return err
	}
	return s.renderLogin(w, http.StatusOK, loginForm{}, token, "")
}

func (s *Site) renderLogin(w http.ResponseWriter, status int, f loginForm, token, problem string) error {
	f.Password = "" // never sent back
	return s.renderConsole(w, status, "admin_login", consolePage{Title: "Sign in", CSRF: token, Problem: problem, Data: f})
}

// login checks the password and starts a session. Failures count per
// client address and per address and username; past the limit the answer
// is 429 with Retry-After, before any password is checked.
func (s *Site) login(w http.ResponseWriter, r *http.Request) error {
	if err := s.readForm(w, r); err != nil {
		return err
	}
	token, err := checkLoginCSRF(r)
	if err != nil {
		return err
	}
	f := loginForm{Username: strings.TrimSpace(r.PostFormValue("username")), Password: r.PostFormValue("password")}
	// Failures count per client address and per address and username,
	// never per username alone: five wrong guesses from elsewhere must not
	// lock the owner out from every address (issue 11, bypass 8). Guessing
	// one username from many addresses stays slow: each guess costs a full
	// argon2id check, and s.console.checks bounds how many run at once.
	keys := []string{"ip " + clientKey(r)}
	if f.Username != "" {
		keys = append(keys, "ip "+clientKey(r)+" user "+strings.ToLower(f.Username))
	}
	wait, err := s.community.LoginWait(r.Context(), keys...)
	if err != nil {
		return err
	}
	if wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return s.renderLogin(w, http.StatusTooManyRequests, f, token,
			fmt.Sprintf("Too many failed sign-ins. Try again in %d minutes.", (secs+59)/60))
	}
	if errs := f.Validate(); errs != nil {
		f.Errors = errs
		return s.renderLogin(w, http.StatusUnprocessableEntity, f, token, "")
	}
	select {
	case s.console.checks <- struct{}{}:
	case <-r.Context().Done():
		return r.Context().Err()
	}
	sessionToken, _, err := s.community.Login(r.Context(), f.Username, f.Password, s.console.ttl)
	<-s.console.checks
	if errors.Is(err, community.ErrForbidden) {
		if err := s.community.LoginFailed(r.Context(), keys...); err != nil {
			return err
		}
		return s.renderLogin(w, http.StatusUnauthorized, f, token, "Wrong username or password.")
	}
	if err != nil {
		return err
	}
	if len(keys) > 1 {
		if err := s.community.LoginSucceeded(r.Context(), keys[1]); err != nil {
			return err
		}
	}
	http.SetCookie(w, s.cookie(sessionCookie, sessionToken, s.console.ttl, http.SameSiteLaxMode))
	http.SetCookie(w, s.cookie(loginCookie, "", -1, http.SameSiteStrictMode))
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
	return nil
}

// logout ends the session and clears its cookie.
func (s *Site) logout(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	if err := s.community.Logout(r.Context(), cr.token); err != nil {
		return err
	}
	s.record(r, cr, "logout", "", "", "")
	http.SetCookie(w, s.cookie(sessionCookie, "", -1, http.SameSiteLaxMode))
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
	return nil
}

// clientKey is the rate-limit key of a client: its IPv4 address, or the
// /64 of its IPv6 address (one host usually holds a whole /64). The
// connection's address is used, never a forwarded header a client could
// forge.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
