package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/server"
	"github.com/coppice-dev/coppice/storage"
)

// syncClock is a settable clock the server reads from its own goroutines.
type syncClock struct {
	mu sync.Mutex
	t  time.Time // mu guards t
}

func (c *syncClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *syncClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newSignInInstance starts an instance, with --insecure-federation, whose
// community rules and console read clk (signatures and deliveries use the
// real time).
func newSignInInstance(t *testing.T, clk *syncClock) *testInstance {
	t.Helper()
	return newInstance(t, true, func(o *server.Options) { o.Now = clk.now })
}

func newClock() *syncClock { return &syncClock{t: time.Now()} }

// browser is a browser session: its own cookie jar; it follows redirects.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (b *browser) do(req *http.Request) (int, string, *url.URL) {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return res.StatusCode, string(body), res.Request.URL
}

func (b *browser) get(rawURL string) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	code, body, _ := b.do(req)
	return code, body
}

func (b *browser) post(rawURL string, form url.Values) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	code, body, _ := b.do(req)
	return code, body
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf opens page and returns the CSRF token of its first form.
func (b *browser) csrf(page string) string {
	b.t.Helper()
	code, body := b.get(page)
	m := csrfRE.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		b.t.Fatalf("GET %s: %d, no csrf field in %.300s", page, code, body)
	}
	return html.UnescapeString(m[1])
}

// askLink asks for a sign-in link for handle from the sign-in page.
func (b *browser) askLink(ti *testInstance, handle string) (int, string) {
	b.t.Helper()
	csrf := b.csrf(ti.URL + "/signin?return=/c/seedbreeders")
	return b.post(ti.URL+"/signin", url.Values{"csrf": {csrf}, "handle": {handle}, "method": {"link"}, "return": {"/c/seedbreeders"}})
}

var linkRE = regexp.MustCompile(`href="([^"]*/signin/link[^"]*)"`)

// signInMessage waits for the n-th direct message to actor and returns it
// with the link it holds.
func signInMessage(t *testing.T, peer *fedtest.Instance, actor *fedtest.Actor, n int) (fedtest.Received, string) {
	t.Helper()
	got := peer.Wait(t, n, wait, func(r fedtest.Received) bool {
		return r.Activity["type"] == "Create" && r.Path == "/users/"+actor.Name+"/inbox"
	})
	msg := got[n-1]
	note, _ := msg.Activity["object"].(map[string]any)
	content, _ := note["content"].(string)
	m := linkRE.FindStringSubmatch(content)
	if m == nil {
		t.Fatalf("no sign-in link in %q", content)
	}
	return msg, html.UnescapeString(m[1])
}

func hashOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TestSignInByDirectMessage: a member of a strict (GoToSocial-like) server
// asks for a link, their server receives a signed direct message from the
// instance actor, and following the link in the same browser signs it in;
// the link is refused in another browser and when used again, and only
// its hash is stored.
func TestSignInByDirectMessage(t *testing.T) {
	ti := newSignInInstance(t, newClock())
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.21"))
	alice := peer.NewActor("alice")
	handle := "@alice@" + peer.Host

	b := newBrowser(t)
	if code, body := b.get(ti.URL + "/c/seedbreeders"); code != 200 || !strings.Contains(body, `href="/signin?return=%2Fc%2Fseedbreeders"`) {
		t.Fatalf("community page: %d, want a Sign in link in %.500s", code, body)
	}
	code, body := b.askLink(ti, handle)
	if code != http.StatusOK || !strings.Contains(body, "Check your messages") || !strings.Contains(body, html.EscapeString(handle)) {
		t.Fatalf("ask for a link: %d %.500s", code, body)
	}

	msg, link := signInMessage(t, peer, alice, 1)
	if msg.Err != nil {
		t.Fatalf("the direct message does not authenticate at the peer: %v", msg.Err)
	}
	act := msg.Activity
	if act["actor"] != ti.URL+"/actor" {
		t.Errorf("message actor = %v, want the instance actor %s/actor", act["actor"], ti.URL)
	}
	note := act["object"].(map[string]any)
	for _, aud := range []any{act["to"], note["to"], act["cc"], note["cc"]} {
		switch v := aud.(type) {
		case nil:
		case string:
			if v != alice.IRI {
				t.Errorf("message addressed to %v, want only %s", v, alice.IRI)
			}
		case []any:
			if len(v) != 1 || v[0] != alice.IRI {
				t.Errorf("message addressed to %v, want only %s", v, alice.IRI)
			}
		}
	}
	tag, _ := note["tag"].(map[string]any)
	if tag == nil {
		if tags, ok := note["tag"].([]any); ok && len(tags) == 1 {
			tag, _ = tags[0].(map[string]any)
		}
	}
	if tag["type"] != "Mention" || tag["href"] != alice.IRI || tag["name"] != handle {
		t.Errorf("message tag = %v, want a Mention of %s named %s", note["tag"], alice.IRI, handle)
	}

	// The message is not served to anyone else.
	for _, id := range []any{act["id"], note["id"]} {
		if res, _ := get(t, id.(string), "application/activity+json"); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %v: %d, want 404: the link must reach its recipient only", id, res.StatusCode)
		}
	}

	// Only the token's hash is stored.
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	token := u.Query().Get("token")
	ctx := context.Background()
	if _, err := ti.store.SignInRequestByHash(ctx, token); err != storage.ErrNotFound {
		t.Errorf("a request stored under the plain token: %v", err)
	}
	if q, err := ti.store.SignInRequestByHash(ctx, hashOf(token)); err != nil || q.ActorIRI != alice.IRI {
		t.Fatalf("request by hash = %+v, %v; want one for %s", q, err, alice.IRI)
	}

	// Another browser session: refused, and the link stays usable.
	other := newBrowser(t)
	other.csrf(ti.URL + "/signin") // it has a pre-session of its own
	if code, body := other.get(link); code != http.StatusForbidden || !strings.Contains(body, "in the browser where you asked for it") {
		t.Fatalf("link in another browser: %d %.300s", code, body)
	}
	if code, body := newBrowser(t).get(link); code != http.StatusForbidden {
		t.Fatalf("link in a browser without cookies: %d %.300s", code, body)
	}

	// The browser that asked is signed in and sent back where it was.
	req, _ := http.NewRequest(http.MethodGet, link, nil)
	code, body, final := b.do(req)
	if code != http.StatusOK || final.Path != "/c/seedbreeders" {
		t.Fatalf("open the link: %d at %s", code, final)
	}
	if !strings.Contains(body, "Signed in as <strong class=\"handle\">"+html.EscapeString(handle)+"</strong>") || !strings.Contains(body, "Sign out") {
		t.Fatalf("after sign-in the page does not say who is signed in: %.800s", body)
	}
	for _, c := range b.c.Jar.Cookies(final) {
		if c.Name == "coppice_presession" {
			t.Errorf("the pre-session cookie outlived the sign-in")
		}
	}

	// Used once: refused the second time, even in the same browser.
	b2 := newBrowser(t)
	b2.c.Jar = b.c.Jar
	if code, body := b2.get(link); code != http.StatusForbidden || !strings.Contains(body, "used already") {
		t.Fatalf("reused link: %d %.300s", code, body)
	}

	// Sign out: a CSRF-checked POST.
	if code, _ := b.post(ti.URL+"/signout", url.Values{"csrf": {"forged"}}); code != http.StatusForbidden {
		t.Fatalf("sign out with a wrong CSRF token: %d, want 403", code)
	}
	csrf := csrfRE.FindStringSubmatch(body)
	if code, body := b.post(ti.URL+"/signout", url.Values{"csrf": {html.UnescapeString(csrf[1])}}); code != http.StatusOK || strings.Contains(body, "Signed in as") {
		t.Fatalf("sign out: %d %.300s", code, body)
	}
}

// TestSignInLinkExpires: a link opened after 15 minutes is refused.
func TestSignInLinkExpires(t *testing.T) {
	clk := newClock()
	ti := newSignInInstance(t, clk)
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.22"))
	alice := peer.NewActor("alice")
	b := newBrowser(t)
	if code, body := b.askLink(ti, "@alice@"+peer.Host); code != http.StatusOK {
		t.Fatalf("ask for a link: %d %.300s", code, body)
	}
	_, link := signInMessage(t, peer, alice, 1)
	clk.advance(community.SignInLinkTTL + time.Second)
	if code, body := b.get(link); code != http.StatusForbidden || !strings.Contains(body, "expired") {
		t.Fatalf("expired link: %d %.300s", code, body)
	}
}

// TestSignInFormRefusals: a form without the pre-session's CSRF token is
// refused and sends nothing; a handle that is not one, or that its server
// does not know, gets a clear message.
func TestSignInFormRefusals(t *testing.T) {
	ti := newSignInInstance(t, newClock())
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.23"))
	peer.NewActor("alice")
	handle := "@alice@" + peer.Host
	ctx := context.Background()

	b := newBrowser(t)
	good := b.csrf(ti.URL + "/signin")
	other := newBrowser(t).csrf(ti.URL + "/signin")
	for _, tt := range []struct {
		name string
		form url.Values
	}{
		{"no CSRF token", url.Values{"handle": {handle}, "method": {"link"}}},
		{"a forged CSRF token", url.Values{"csrf": {"forged"}, "handle": {handle}, "method": {"link"}}},
		{"the CSRF token of another browser", url.Values{"csrf": {other}, "handle": {handle}, "method": {"link"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := b.post(ti.URL+"/signin", tt.form); code != http.StatusForbidden {
				t.Errorf("POST /signin with %s: %d %.200s, want 403", tt.name, code, body)
			}
		})
	}
	if n, _, err := ti.store.CountSignInRequests(ctx, "alice@"+peer.Host, "", "", time.Time{}); err != nil || n != 0 {
		t.Fatalf("after forged forms: %d links, %v; want none", n, err)
	}

	for _, tt := range []struct {
		name, handle string
		status       int
		says         string
	}{
		{"not a handle", "alice", http.StatusUnprocessableEntity, "write your fediverse address as @name@server.example"},
		{"a URL", "https://evil.example/", http.StatusUnprocessableEntity, "write your fediverse address"},
		{"an account its server does not know", "@nobody@" + peer.Host, http.StatusForbidden, "We could not find @nobody@"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body := b.post(ti.URL+"/signin", url.Values{"csrf": {good}, "handle": {tt.handle}, "method": {"link"}})
			if code != tt.status || !strings.Contains(body, tt.says) {
				t.Errorf("sign in as %q: %d, want %d saying %q in %.600s", tt.handle, code, tt.status, tt.says, body)
			}
		})
	}
}

// TestSignInRateLimits: a handle gets at most LinksPerHandle messages an
// hour, a client address starts at most SignInsPerClient sign-ins an hour;
// beyond that 429 with Retry-After, and nothing is sent.
func TestSignInRateLimits(t *testing.T) {
	ti := newSignInInstance(t, newClock())
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.24"))
	alice := peer.NewActor("alice")
	handle := "@alice@" + peer.Host
	ctx := context.Background()

	b := newBrowser(t)
	for i := 0; i < community.LinksPerHandle; i++ {
		if code, body := b.askLink(ti, handle); code != http.StatusOK {
			t.Fatalf("link %d: %d %.300s", i+1, code, body)
		}
	}
	code, body := b.askLink(ti, "@ALICE@"+strings.ToUpper(peer.Host))
	if code != http.StatusTooManyRequests || !strings.Contains(body, "Too many sign-ins for this address") {
		t.Fatalf("one link too many (other spelling): %d %.300s", code, body)
	}
	if n, _, err := ti.store.CountSignInRequests(ctx, "alice@"+peer.Host, alice.IRI, "", time.Time{}); err != nil || n != community.LinksPerHandle {
		t.Fatalf("links stored for alice: %d, %v; want %d", n, err, community.LinksPerHandle)
	}
	signInMessage(t, peer, alice, community.LinksPerHandle)

	// Per client address: other handles, until the address's budget is spent.
	for i := community.LinksPerHandle; i < community.SignInsPerClient; i++ {
		name := "user" + string(rune('a'+i))
		peer.NewActor(name)
		if code, body := b.askLink(ti, "@"+name+"@"+peer.Host); code != http.StatusOK {
			t.Fatalf("sign-in %d: %d %.300s", i+1, code, body)
		}
	}
	peer.NewActor("zed")
	req, _ := http.NewRequest(http.MethodPost, ti.URL+"/signin", strings.NewReader(url.Values{
		"csrf": {b.csrf(ti.URL + "/signin")}, "handle": {"@zed@" + peer.Host}, "method": {"link"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("one sign-in too many from one address: %d, Retry-After %q; want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if peer.Gets("/users/zed") != 0 {
		t.Errorf("the refused sign-in still fetched the actor")
	}
}

// startOAuth submits the sign-in form for handle with the server method
// and follows the redirects through the server's authorization page up to
// our callback, which it returns unopened.
func (b *browser) startOAuth(ti *testInstance, handle string) string {
	b.t.Helper()
	csrf := b.csrf(ti.URL + "/signin")
	c := *b.c
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/signin/oauth/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	req, _ := http.NewRequest(http.MethodPost, ti.URL+"/signin", strings.NewReader(url.Values{
		"csrf": {csrf}, "handle": {handle}, "method": {"oauth"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, ti.URL+"/signin/oauth/callback?") {
		b.t.Fatalf("sign in with the server of %s: %d to %q, want 302 to our callback: %.300s", handle, res.StatusCode, loc, body)
	}
	return loc
}

// TestSignInWithMastodonAPI: a member of a server speaking the Mastodon
// client API signs in through its authorization page; the app is
// registered once per server.
func TestSignInWithMastodonAPI(t *testing.T) {
	ti := newSignInInstance(t, newClock())
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.25"))
	peer.NewActor("alice")
	api := peer.EnableMastodonAPI("alice")
	handle := "@alice@" + peer.Host

	for i := 0; i < 2; i++ {
		b := newBrowser(t)
		csrf := b.csrf(ti.URL + "/signin")
		req, _ := http.NewRequest(http.MethodPost, ti.URL+"/signin", strings.NewReader(url.Values{
			"csrf": {csrf}, "handle": {handle}, "method": {"oauth"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		code, body, final := b.do(req)
		if code != http.StatusOK || final.String() != ti.URL+"/" {
			t.Fatalf("sign in %d with the server: %d at %s %.300s", i+1, code, final, body)
		}
		if !strings.Contains(body, "Signed in as <strong class=\"handle\">"+html.EscapeString(handle)+"</strong>") {
			t.Fatalf("sign in %d with the server: the page does not say who is signed in: %.800s", i+1, body)
		}
	}
	if n := api.Registrations(); n != 1 {
		t.Errorf("apps registered with %s: %d, want 1", peer.Host, n)
	}
}

// TestSignInWithMastodonAPIRefusals: what the member's server says is
// checked: an account it does not host, a state used twice, a code used
// twice, an expired access token, a refusal on the authorization page and
// an expired state all end without a session.
func TestSignInWithMastodonAPIRefusals(t *testing.T) {
	clk := newClock()
	ti := newSignInInstance(t, clk)
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.26"))
	elsewhere := fedtest.New(t, fedtest.OnAddress("127.0.0.27"))
	peer.NewActor("alice")
	victim := elsewhere.NewActor("victim")
	api := peer.EnableMastodonAPI("alice")
	handle := "@alice@" + peer.Host

	refused := func(t *testing.T, b *browser, callback, says string) {
		t.Helper()
		code, body := b.get(callback)
		if code != http.StatusForbidden || !strings.Contains(body, says) || !strings.Contains(body, ">Sign in</a>") {
			t.Fatalf("callback: %d, want 403 saying %q: %.500s", code, says, body)
		}
	}

	t.Run("an account of another server", func(t *testing.T) {
		api.VouchFor("victim", "victim@"+elsewhere.Host)
		defer api.VouchFor("", "")
		b := newBrowser(t)
		refused(t, b, b.startOAuth(ti, handle), "vouched for an account it does not host")
	})
	t.Run("a local name whose WebFinger leads to another host", func(t *testing.T) {
		peer.AliasWebFinger("mallory", victim.IRI)
		api.VouchFor("mallory", "mallory")
		defer api.VouchFor("", "")
		b := newBrowser(t)
		refused(t, b, b.startOAuth(ti, handle), "vouched for an account it does not host")
	})
	t.Run("a state used twice, then a code used twice", func(t *testing.T) {
		b := newBrowser(t)
		callback := b.startOAuth(ti, handle)
		if code, body := b.get(callback); code != http.StatusOK || !strings.Contains(body, "Signed in as") {
			t.Fatalf("first callback: %d %.300s", code, body)
		}
		if code, body := b.get(callback); code != http.StatusForbidden || !strings.Contains(body, "used already") {
			t.Fatalf("the callback again: %d, want 403 saying it was used: %.500s", code, body)
		}

		// A fresh state with the old code: the server refuses the code.
		b2 := newBrowser(t)
		fresh, err := url.Parse(b2.startOAuth(ti, handle))
		if err != nil {
			t.Fatal(err)
		}
		old, _ := url.Parse(callback)
		q := fresh.Query()
		q.Set("code", old.Query().Get("code"))
		fresh.RawQuery = q.Encode()
		refused(t, b2, fresh.String(), "did not accept the authorization")
	})
	t.Run("a callback in another browser", func(t *testing.T) {
		callback := newBrowser(t).startOAuth(ti, handle)
		other := newBrowser(t)
		other.csrf(ti.URL + "/signin")
		refused(t, other, callback, "in the browser where you asked for it")
	})
	t.Run("the member said no", func(t *testing.T) {
		b := newBrowser(t)
		callback, _ := url.Parse(b.startOAuth(ti, handle))
		q := callback.Query()
		q.Del("code")
		q.Set("error", "access_denied")
		callback.RawQuery = q.Encode()
		refused(t, b, callback.String(), "did not authorize")
	})
	t.Run("an expired state", func(t *testing.T) {
		b := newBrowser(t)
		callback := b.startOAuth(ti, handle)
		clk.advance(community.OAuthStateTTL + time.Second)
		refused(t, b, callback, "expired")
	})
	t.Run("an expired access token", func(t *testing.T) {
		api.ExpireTokens()
		b := newBrowser(t)
		refused(t, b, b.startOAuth(ti, handle), "did not tell us who you are")
	})
}

// TestFET11HandleLeadingToAnotherHostsActor: a server whose WebFinger for
// one of its names leads to an actor on another host (which does not
// vouch for that name) cannot bind its name to that actor: the link goes
// to the actor under the actor's own handle, and signs it in under that
// handle, never under the lying server's. An actor whose own host vouches
// for the name (Mastodon's split domains) keeps it.
func TestFET11HandleLeadingToAnotherHostsActor(t *testing.T) {
	ti := newSignInInstance(t, newClock())
	victims := fedtest.New(t, fedtest.OnAddress("127.0.0.63"))
	liar := fedtest.New(t, fedtest.OnAddress("127.0.0.64"))
	alice := victims.NewActor("alice")
	liar.AliasWebFinger("g", alice.IRI)
	own := "@alice@" + victims.Host

	b := newBrowser(t)
	code, body := b.askLink(ti, "@g@"+liar.Host)
	if code != http.StatusOK || !strings.Contains(body, "Check your messages") {
		t.Fatalf("ask for a link as @g@%s: %d %.500s", liar.Host, code, body)
	}
	if strings.Contains(body, html.EscapeString("@g@"+liar.Host)) && !strings.Contains(body, html.EscapeString(own)) {
		t.Errorf("the page names the account @g@%s, not its own handle %s: %.500s", liar.Host, own, body)
	}
	msg, link := signInMessage(t, victims, alice, 1)
	note := msg.Activity["object"].(map[string]any)
	if !strings.Contains(fmt.Sprint(note["tag"]), "name:"+own) || strings.Contains(fmt.Sprint(note["tag"]), "@g@") {
		t.Errorf("message tag = %v, want a Mention named %s", note["tag"], own)
	}
	req, _ := http.NewRequest(http.MethodGet, link, nil)
	code, body, _ = b.do(req)
	if code != http.StatusOK || !strings.Contains(body, "Signed in as <strong class=\"handle\">"+html.EscapeString(own)+"</strong>") {
		t.Fatalf("open the link: %d, want signed in as %s: %.800s", code, own, body)
	}
	if strings.Contains(body, html.EscapeString("@g@"+liar.Host)) {
		t.Errorf("signed in under the lying server's name: %.800s", body)
	}

	// Split domain: the actor's host says acct:alias@liar is alice too.
	split := fedtest.New(t, fedtest.OnAddress("127.0.0.65"))
	carol := split.NewActor("carol")
	liar.AliasWebFinger("carol", carol.IRI)
	split.AliasSubject("carol", "acct:carol@"+liar.Host)
	b2 := newBrowser(t)
	if code, body := b2.askLink(ti, "@carol@"+liar.Host); code != http.StatusOK {
		t.Fatalf("ask for a link as @carol@%s: %d %.500s", liar.Host, code, body)
	}
	_, link = signInMessage(t, split, carol, 1)
	req, _ = http.NewRequest(http.MethodGet, link, nil)
	if code, body, _ := b2.do(req); code != http.StatusOK || !strings.Contains(body, html.EscapeString("@carol@"+liar.Host)) {
		t.Errorf("split domain: %d, want signed in as @carol@%s: %.800s", code, liar.Host, body)
	}
}
