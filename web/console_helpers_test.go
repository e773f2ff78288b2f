package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/server"
	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// testClock is the clock of a test console; handlers read it while the
// test advances it.
type testClock struct {
	mu sync.Mutex
	t  time.Time // mu guards t
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testConsole is the console of an instance (server.NewInstance, its
// background work not running) over a fresh database with two communities:
// seeds (approval mode, with a pending follower) and bees (open).
type testConsole struct {
	t     *testing.T
	st    *storage.Store
	svc   *community.Service
	h     http.Handler
	clock *testClock
	// remote actors known to the instance: ann asked to join seeds, bob
	// follows bees.
	ann, bob storage.Actor
}

const testPassword = "correct horse battery"

func newTestConsole(t *testing.T, baseURL string) *testConsole {
	t.Helper()
	st := storagetest.Open(t)
	clk := &testClock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	base, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	// The console as serve wires it: every request goes through the
	// instance's one router and its middleware.
	inst, err := server.NewInstance(context.Background(), server.Options{Store: st, BaseURL: base, MediaDir: t.TempDir(),
		Now: clk.now, SessionTTL: time.Hour, MaxUpload: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	svc := inst.Community
	tc := &testConsole{t: t, st: st, svc: svc, h: inst, clock: clk}
	ctx := context.Background()
	for _, n := range []community.NewCommunity{
		{Name: "seeds", Title: "Seed savers", Summary: "Saving seeds.", JoinMode: community.JoinApproval},
		{Name: "bees", Title: "Beekeepers", Summary: "Keeping bees."},
	} {
		if _, err := svc.CreateCommunity(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	tc.ann = tc.remoteActor("ann")
	tc.bob = tc.remoteActor("bob")
	tc.follow("seeds", tc.ann)
	tc.follow("bees", tc.bob)
	return tc
}

func (tc *testConsole) remoteActor(name string) storage.Actor {
	tc.t.Helper()
	a := storage.Actor{IRI: "https://remote.example/users/" + name, Type: "Person", Host: "remote.example", PreferredUsername: name,
		Name: "Remote " + name, Inbox: "https://remote.example/users/" + name + "/inbox", SharedInbox: "https://remote.example/inbox",
		Raw: []byte("{}"), FetchedAt: tc.clock.now(), ExpiresAt: tc.clock.now().Add(time.Hour)}
	if err := tc.st.UpsertActor(context.Background(), a); err != nil {
		tc.t.Fatal(err)
	}
	return a
}

func (tc *testConsole) follow(communityName string, a storage.Actor) {
	tc.t.Helper()
	id := a.IRI + "/follows/" + communityName
	in := community.Incoming{IRI: id, Type: "Follow", Actor: a, Raw: []byte(`{"type":"Follow"}`)}
	if _, err := tc.svc.Follow(context.Background(), communityName, in, id); err != nil {
		tc.t.Fatal(err)
	}
}

// session is a signed-in console user as a browser holds it.
type session struct {
	token string
	csrf  string
}

// account creates a console account; stewards get the communities given
// as name → role.
func (tc *testConsole) account(username, kind string, charges map[string]string) {
	tc.t.Helper()
	ctx := context.Background()
	if _, err := tc.svc.CreateAccount(ctx, community.NewAccount{Username: username, Password: testPassword, Kind: kind}); err != nil {
		tc.t.Fatal(err)
	}
	for name, role := range charges {
		if err := tc.svc.SetSteward(ctx, username, name, role); err != nil {
			tc.t.Fatal(err)
		}
	}
}

// signIn starts a session for an existing account without the password
// check, which the login tests cover.
func (tc *testConsole) signIn(username string) session {
	tc.t.Helper()
	a, err := tc.st.AccountByUsername(context.Background(), username)
	if err != nil {
		tc.t.Fatal(err)
	}
	token, cs, err := tc.svc.StartSession(context.Background(), a.ID, time.Hour)
	if err != nil {
		tc.t.Fatal(err)
	}
	return session{token: token, csrf: cs.Session.CSRFToken}
}

// admin creates the admin root and signs it in.
func (tc *testConsole) admin() session {
	tc.t.Helper()
	tc.account("root", storage.AccountAdmin, nil)
	return tc.signIn("root")
}

// request sends a request to the console as se (zero: nobody) from addr.
func (tc *testConsole) request(method, path string, se session, body io.Reader, contentType string) *httptest.ResponseRecorder {
	tc.t.Helper()
	req := httptest.NewRequest(method, path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if se.token != "" {
		req.AddCookie(&http.Cookie{Name: "coppice_session", Value: se.token})
	}
	rec := httptest.NewRecorder()
	tc.h.ServeHTTP(rec, req)
	return rec
}

func (tc *testConsole) get(path string, se session) *httptest.ResponseRecorder {
	tc.t.Helper()
	return tc.request(http.MethodGet, path, se, nil, "")
}

// post sends a form as se with the session's CSRF token, unless the form
// sets csrf itself.
func (tc *testConsole) post(path string, se session, form url.Values) *httptest.ResponseRecorder {
	tc.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", se.csrf)
	}
	return tc.request(http.MethodPost, path, se, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

// postMultipart sends a multipart form with one file as se.
func (tc *testConsole) postMultipart(path string, se session, form url.Values, fileField, fileName string, content []byte) *httptest.ResponseRecorder {
	tc.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	form.Set("csrf", se.csrf)
	for k, vs := range form {
		for _, v := range vs {
			if err := mw.WriteField(k, v); err != nil {
				tc.t.Fatal(err)
			}
		}
	}
	if fileField != "" {
		fw, err := mw.CreateFormFile(fileField, fileName)
		if err != nil {
			tc.t.Fatal(err)
		}
		if _, err := fw.Write(content); err != nil {
			tc.t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		tc.t.Fatal(err)
	}
	return tc.request(http.MethodPost, path, se, &buf, mw.FormDataContentType())
}

// wantRedirect checks a 303 to a path starting with prefix.
func wantRedirect(t *testing.T, rec *httptest.ResponseRecorder, prefix string) {
	t.Helper()
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), prefix) {
		t.Fatalf("got %d to %q, want 303 to %s…; body:\n%s", rec.Code, rec.Header().Get("Location"), prefix, problemText(rec))
	}
}

// wantStatus checks the status of a response.
func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("got status %d, want %d; problem: %s", rec.Code, want, problemText(rec))
	}
}

// wantBody checks that a page contains each of wants.
func wantBody(t *testing.T, rec *httptest.ResponseRecorder, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(rec.Body.String(), w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

var problemRE = regexp.MustCompile(`(?s)<p class="problem"[^>]*>(.*?)</p>`)

// problemText is the problem a console page reports, for failure messages.
func problemText(rec *httptest.ResponseRecorder) string {
	if m := problemRE.FindStringSubmatch(rec.Body.String()); m != nil {
		return m[1]
	}
	return "(none)"
}

func cookieNamed(rec *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}
