package web

import (
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
)

// errCSRF answers a console form whose CSRF token is missing or wrong.
var errCSRF = &statusError{status: http.StatusForbidden,
	msg: "This form expired or did not come from this console. Go back, reload the page and send it again."}

// checkCSRF checks the form field csrf against the session's token, in
// constant time. Every state-changing console route is a POST that passes
// here first.
func checkCSRF(r *http.Request, want string) error {
	if !tokensEqual(r.PostFormValue("csrf"), want) {
		return errCSRF
	}
	return nil
}

func tokensEqual(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// loginToken returns the login form's CSRF token. Before there is a
// session, the token is double-submitted: a cookie only this site can set
// and a hidden field must match. An existing cookie is kept, so two open
// login tabs both work.
func (s *Site) loginToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 43 {
		return c.Value, nil
	}
	token, err := community.NewToken()
	if err != nil {
		return "", err
	}
	http.SetCookie(w, s.cookie(loginCookie, token, time.Hour, http.SameSiteStrictMode))
	return token, nil
}

// checkLoginCSRF checks the login form's field against its cookie and
// returns the token.
func checkLoginCSRF(r *http.Request) (string, error) {
	c, err := r.Cookie(loginCookie)
	if err != nil || !tokensEqual(r.PostFormValue("csrf"), c.Value) {
		return "", errCSRF
	}
	return c.Value, nil
}
