package fedtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// MastodonAPI is the part of the Mastodon client API that signing in to
// another site with OAuth uses, served by a fake instance: app
// registration (POST /api/v1/apps), the authorization page
// (/oauth/authorize, which approves at once as the instance's signed-in
// user and redirects with a code), the token endpoint (/oauth/token) and
// GET /api/v1/accounts/verify_credentials. It is as strict as Mastodon's
// Doorkeeper: registered redirect URIs only, scopes within the app's,
// single-use codes, PKCE S256 checked when the code was issued with a
// challenge, bearer tokens that can expire.
type MastodonAPI struct {
	in *Instance

	mu sync.Mutex
	// mu guards everything below.
	apps          map[string]apiApp   // client_id → app
	codes         map[string]apiCode  // code → grant
	tokens        map[string]apiToken // access token → account
	user          string              // the signed-in user who approves
	override      *apiAccount         // what verify_credentials says instead, when set
	expiring      bool                // tokens are issued expired
	registrations int
}

type apiApp struct {
	id, secret, redirect, scopes string
}

type apiCode struct {
	clientID, redirect, challenge, user string
	used                                bool
}

type apiToken struct {
	user    string
	expired bool
}

type apiAccount struct {
	Username string `json:"username"`
	Acct     string `json:"acct"`
}

// EnableMastodonAPI makes the instance serve the Mastodon client API for
// signing in; user is the name of the actor its authorization page
// approves as.
func (in *Instance) EnableMastodonAPI(user string) *MastodonAPI {
	api := &MastodonAPI{in: in, apps: map[string]apiApp{}, codes: map[string]apiCode{}, tokens: map[string]apiToken{}, user: user}
	in.mu.Lock()
	in.api = api
	in.mu.Unlock()
	return api
}

// SignedInAs changes the user the authorization page approves as.
func (api *MastodonAPI) SignedInAs(user string) {
	api.mu.Lock()
	api.user = user
	api.mu.Unlock()
}

// VouchFor makes verify_credentials answer with another account (username
// and acct as Mastodon spells them: acct is "name@host" for an account of
// another server), as a lying or broken server would; "" restores the
// truth.
func (api *MastodonAPI) VouchFor(username, acct string) {
	api.mu.Lock()
	defer api.mu.Unlock()
	if username == "" {
		api.override = nil
		return
	}
	api.override = &apiAccount{Username: username, Acct: acct}
}

// ExpireTokens makes every access token issued so far, and every one
// issued from now on, expired, as if each lived no time at all.
func (api *MastodonAPI) ExpireTokens() {
	api.mu.Lock()
	defer api.mu.Unlock()
	api.expiring = true
	for k, t := range api.tokens {
		t.expired = true
		api.tokens[k] = t
	}
}

// Registrations is how many apps were registered.
func (api *MastodonAPI) Registrations() int {
	api.mu.Lock()
	defer api.mu.Unlock()
	return api.registrations
}

// serve answers the API's routes; it reports false for any other path.
func (api *MastodonAPI) serve(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/apps":
		api.registerApp(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/oauth/authorize":
		api.authorize(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/oauth/token":
		api.token(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/accounts/verify_credentials":
		api.verifyCredentials(w, r)
	default:
		return false
	}
	return true
}

func apiError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

func apiJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (api *MastodonAPI) registerApp(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	redirect, scopes := r.PostFormValue("redirect_uris"), r.PostFormValue("scopes")
	if r.PostFormValue("client_name") == "" || redirect == "" {
		apiError(w, http.StatusUnprocessableEntity, "invalid_request", "client_name and redirect_uris are required")
		return
	}
	if u, err := url.Parse(redirect); err != nil || u.Host == "" || u.Fragment != "" {
		apiError(w, http.StatusUnprocessableEntity, "invalid_redirect_uri", "redirect_uris must be absolute URIs")
		return
	}
	if scopes == "" {
		scopes = "read"
	}
	app := apiApp{id: randomID() + randomID(), secret: randomID() + randomID(), redirect: redirect, scopes: scopes}
	api.mu.Lock()
	api.apps[app.id] = app
	api.registrations++
	api.mu.Unlock()
	apiJSON(w, map[string]string{"id": randomID(), "name": r.PostFormValue("client_name"), "client_id": app.id,
		"client_secret": app.secret, "redirect_uri": redirect})
}

func (api *MastodonAPI) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	api.mu.Lock()
	app, ok := api.apps[q.Get("client_id")]
	user := api.user
	api.mu.Unlock()
	switch {
	case !ok:
		http.Error(w, "unknown client", http.StatusUnauthorized)
		return
	case q.Get("redirect_uri") != app.redirect:
		// Doorkeeper shows an error page and never redirects to an
		// unregistered URI.
		http.Error(w, "the redirect uri is not registered", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code" || !scopesWithin(q.Get("scope"), app.scopes):
		http.Error(w, "bad response_type or scope", http.StatusBadRequest)
		return
	case q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256":
		http.Error(w, "only S256 challenges", http.StatusBadRequest)
		return
	}
	code := randomID() + randomID()
	api.mu.Lock()
	api.codes[code] = apiCode{clientID: app.id, redirect: app.redirect, challenge: q.Get("code_challenge"), user: user}
	api.mu.Unlock()
	back, _ := url.Parse(app.redirect)
	bq := back.Query()
	bq.Set("code", code)
	if s := q.Get("state"); s != "" {
		bq.Set("state", s)
	}
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (api *MastodonAPI) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	f := r.PostForm
	api.mu.Lock()
	defer api.mu.Unlock()
	app, ok := api.apps[f.Get("client_id")]
	if !ok || subtle.ConstantTimeCompare([]byte(f.Get("client_secret")), []byte(app.secret)) != 1 {
		apiError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	if f.Get("grant_type") != "authorization_code" {
		apiError(w, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	grant, ok := api.codes[f.Get("code")]
	if !ok || grant.used || grant.clientID != app.id || grant.redirect != f.Get("redirect_uri") {
		apiError(w, http.StatusBadRequest, "invalid_grant", "The provided authorization grant is invalid, expired, revoked or was already used")
		return
	}
	if grant.challenge != "" {
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != grant.challenge {
			apiError(w, http.StatusBadRequest, "invalid_grant", "The code verifier does not match the challenge")
			return
		}
	}
	grant.used = true
	api.codes[f.Get("code")] = grant
	tok := randomID() + randomID() + randomID()
	api.tokens[tok] = apiToken{user: grant.user, expired: api.expiring}
	apiJSON(w, map[string]any{"access_token": tok, "token_type": "Bearer", "scope": app.scopes, "created_at": 1})
}

func (api *MastodonAPI) verifyCredentials(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	api.mu.Lock()
	t, known := api.tokens[tok]
	override := api.override
	api.mu.Unlock()
	switch {
	case !ok || !known:
		apiError(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid")
		return
	case t.expired:
		apiError(w, http.StatusUnauthorized, "invalid_token", "The access token expired")
		return
	}
	acct := apiAccount{Username: t.user, Acct: t.user}
	if override != nil {
		acct = *override
	}
	apiJSON(w, map[string]any{"id": "1", "username": acct.Username, "acct": acct.Acct,
		"display_name": "Test user " + acct.Username, "url": api.in.URL + "/@" + acct.Username})
}

// scopesWithin reports whether every scope asked for is one the app has
// (a "read" app may ask for "read:accounts").
func scopesWithin(asked, allowed string) bool {
	have := strings.Fields(allowed)
	for _, s := range strings.Fields(asked) {
		ok := false
		for _, h := range have {
			if s == h || strings.HasPrefix(s, h+":") {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
