package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

var csrfFieldRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// loginAttempt GETs the login page from addr, then posts the form with
// username and password as a browser does. mangle may change the form
// before it is sent.
func (tc *testConsole) loginAttempt(addr, username, password string, mangle func(url.Values)) *httptest.ResponseRecorder {
	tc.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/admin/login", nil)
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	tc.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tc.t.Fatalf("GET /admin/login: %d", rec.Code)
	}
	cookie := cookieNamed(rec, "coppice_login")
	m := csrfFieldRE.FindStringSubmatch(rec.Body.String())
	if cookie == nil || m == nil || m[1] != cookie.Value {
		tc.t.Fatalf("login page: cookie %v and field %v, want the same token in both", cookie, m)
	}
	form := url.Values{"csrf": {m[1]}, "username": {username}, "password": {password}}
	if mangle != nil {
		mangle(form)
	}
	req = httptest.NewRequest(http.MethodPost, "/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = addr
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	tc.h.ServeHTTP(rec, req)
	return rec
}

func TestLogin(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	tc.account("root", storage.AccountAdmin, nil)
	tests := []struct {
		name       string
		username   string
		password   string
		mangle     func(url.Values)
		wantStatus int
	}{
		{"the right password", "root", testPassword, nil, http.StatusSeeOther},
		{"a wrong password", "root", "wrong horse battery", nil, http.StatusUnauthorized},
		{"an unknown username", "nobody", testPassword, nil, http.StatusUnauthorized},
		{"no password", "root", "", nil, http.StatusUnprocessableEntity},
		{"a form without its CSRF token", "root", testPassword, func(f url.Values) { f.Del("csrf") }, http.StatusForbidden},
		{"a CSRF token that is not the cookie's", "root", testPassword, func(f url.Values) { f.Set("csrf", strings.Repeat("A", 43)) }, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tc.loginAttempt("192.0.2.1:1234", tt.username, tt.password, tt.mangle)
			if rec.Code != tt.wantStatus {
				t.Fatalf("login(%q, %q) = %d, want %d; problem: %s", tt.username, tt.password, rec.Code, tt.wantStatus, problemText(rec))
			}
			c := cookieNamed(rec, "coppice_session")
			if tt.wantStatus != http.StatusSeeOther {
				if c != nil {
					t.Errorf("a failed login set a session cookie: %v", c)
				}
				if strings.Contains(rec.Body.String(), tt.password) && tt.password != "" {
					t.Error("the page sends the password back")
				}
				return
			}
			if rec.Header().Get("Location") != "/admin/" {
				t.Errorf("redirect to %q, want /admin/", rec.Header().Get("Location"))
			}
			if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/admin" || len(c.Value) != 43 {
				t.Fatalf("session cookie = %+v, want HttpOnly, Secure, SameSite=Lax, Path=/admin, a 32-byte token", c)
			}
			if _, err := tc.svc.Session(context.Background(), c.Value); err != nil {
				t.Errorf("the cookie's session: %v", err)
			}
			rec = tc.get("/admin/", session{token: c.Value})
			wantStatus(t, rec, http.StatusOK)
			wantBody(t, rec, "Signed in as <strong>root</strong>")
		})
	}
}

func TestSessionCookieIsNotSecureOnPlainHTTP(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "http://localhost:8080")
	tc.account("root", storage.AccountAdmin, nil)
	rec := tc.loginAttempt("192.0.2.1:1234", "root", testPassword, nil)
	c := cookieNamed(rec, "coppice_session")
	if c == nil || c.Secure || !c.HttpOnly {
		t.Errorf("session cookie on http:// = %+v, want HttpOnly without Secure (browsers drop Secure cookies there)", c)
	}
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	t.Run("five failures from one address", func(t *testing.T) {
		t.Parallel()
		tc := newTestConsole(t, "https://coppice.example")
		tc.account("root", storage.AccountAdmin, nil)
		for i := range 5 {
			rec := tc.loginAttempt("192.0.2.7:1000", "nobody"+strconv.Itoa(i), "wrong password", nil)
			wantStatus(t, rec, http.StatusUnauthorized)
			tc.clock.advance(time.Minute)
		}
		rec := tc.loginAttempt("192.0.2.7:2000", "root", testPassword, nil)
		wantStatus(t, rec, http.StatusTooManyRequests)
		if ra, _ := strconv.Atoi(rec.Header().Get("Retry-After")); ra != 10*60 {
			t.Errorf("Retry-After = %q, want %d (the first failure leaves the window in 10 minutes)", rec.Header().Get("Retry-After"), 10*60)
		}
		if cookieNamed(rec, "coppice_session") != nil {
			t.Error("a limited login set a session cookie")
		}
		wantStatus(t, tc.loginAttempt("198.51.100.1:1000", "root", testPassword, nil), http.StatusSeeOther)
		tc.clock.advance(10 * time.Minute)
		wantStatus(t, tc.loginAttempt("192.0.2.7:3000", "root", testPassword, nil), http.StatusSeeOther)
	})
	t.Run("five failures for one username from many addresses do not lock its owner out", func(t *testing.T) {
		t.Parallel()
		tc := newTestConsole(t, "https://coppice.example")
		tc.account("root", storage.AccountAdmin, nil)
		for i := range 5 {
			wantStatus(t, tc.loginAttempt("192.0.2."+strconv.Itoa(10+i)+":1000", "root", "wrong password", nil), http.StatusUnauthorized)
		}
		// The owner, from an address that guessed nothing, gets in.
		wantStatus(t, tc.loginAttempt("203.0.113.9:1000", "root", testPassword, nil), http.StatusSeeOther)
	})
	t.Run("five failures for one username from one address", func(t *testing.T) {
		t.Parallel()
		tc := newTestConsole(t, "https://coppice.example")
		tc.account("root", storage.AccountAdmin, nil)
		for i := range 5 {
			wantStatus(t, tc.loginAttempt("192.0.2.10:"+strconv.Itoa(1000+i), "root", "wrong password", nil), http.StatusUnauthorized)
		}
		rec := tc.loginAttempt("192.0.2.10:2000", "Root", testPassword, nil)
		wantStatus(t, rec, http.StatusTooManyRequests)
		if ra, _ := strconv.Atoi(rec.Header().Get("Retry-After")); ra != 15*60 {
			t.Errorf("Retry-After = %q, want %d", rec.Header().Get("Retry-After"), 15*60)
		}
		wantBody(t, rec, "Too many failed sign-ins")
		wantStatus(t, tc.loginAttempt("198.51.100.1:1000", "root", testPassword, nil), http.StatusSeeOther)
	})
	t.Run("IPv6 addresses of one /64 count together", func(t *testing.T) {
		t.Parallel()
		tc := newTestConsole(t, "https://coppice.example")
		for i := range 5 {
			wantStatus(t, tc.loginAttempt("[2001:db8::"+strconv.Itoa(i+1)+"]:1000", "nobody", "wrong password", nil), http.StatusUnauthorized)
		}
		wantStatus(t, tc.loginAttempt("[2001:db8::ffff]:1000", "other", "wrong password", nil), http.StatusTooManyRequests)
	})
}

func TestUnauthenticatedRequestsGoToTheLoginPage(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	tc.clock.advance(2 * time.Hour) // past the session's hour
	for _, tt := range []struct {
		name   string
		method string
		path   string
		se     session
	}{
		{"the dashboard without a cookie", http.MethodGet, "/admin/", session{}},
		{"a community page without a cookie", http.MethodGet, "/admin/communities/seeds/members", session{}},
		{"an unknown console path", http.MethodGet, "/admin/nothing/here", session{}},
		{"a form without a cookie", http.MethodPost, "/admin/communities", session{}},
		{"the dashboard with an expired session", http.MethodGet, "/admin/", se},
		{"a made-up token", http.MethodGet, "/admin/", session{token: strings.Repeat("x", 43)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := tc.request(tt.method, tt.path, tt.se, nil, "")
			wantRedirect(t, rec, "/admin/login")
		})
	}
}

func TestLogoutEndsTheSession(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	wantStatus(t, tc.get("/admin/", se), http.StatusOK)

	wantStatus(t, tc.post("/admin/logout", se, url.Values{"csrf": {""}}), http.StatusForbidden)
	rec := tc.post("/admin/logout", se, nil)
	wantRedirect(t, rec, "/admin/login")
	if c := cookieNamed(rec, "coppice_session"); c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("logout cookie = %+v, want it deleted", c)
	}
	if _, err := tc.svc.Session(context.Background(), se.token); !errors.Is(err, community.ErrNotFound) {
		t.Errorf("session after logout: %v, want ErrNotFound", err)
	}
	wantRedirect(t, tc.get("/admin/", se), "/admin/login")
	wantRedirect(t, tc.post("/admin/communities", se, url.Values{"name": {"late"}, "title": {"Late"}}), "/admin/login")
	if _, err := tc.svc.Community(context.Background(), "late"); !errors.Is(err, community.ErrNotFound) {
		t.Errorf("a form sent after logout created a community: %v", err)
	}
}

func TestSignedInUserSkipsTheLoginPage(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	wantRedirect(t, tc.get("/admin/login", se), "/admin/")
}
