package community

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/hostname"
	"github.com/coppice-dev/coppice/storage"
)

// Limits of signing in with a fediverse account (issue 15).
const (
	// SignInLinkTTL is how long a link sent by direct message works.
	SignInLinkTTL = 15 * time.Minute
	// OAuthStateTTL is how long the member has to approve us on their
	// server.
	OAuthStateTTL = 15 * time.Minute
	// SignInWindow is the window of the two rate limits below.
	SignInWindow = time.Hour
	// LinksPerHandle is how many links one handle (or actor) is sent per
	// SignInWindow: nobody can use us to flood a third party with
	// messages.
	LinksPerHandle = 3
	// SignInsPerClient is how many sign-ins of either kind one client
	// address may start per SignInWindow; each costs requests to a remote
	// server.
	SignInsPerClient = 10
	// DefaultMemberSessionTTL is how long a member stays signed in.
	DefaultMemberSessionTTL = 7 * 24 * time.Hour
	// signInKept is how long used and expired requests are kept for the
	// rate limits before they are deleted.
	signInKept = 24 * time.Hour
)

// RemoteAccount is a remote actor found by its handle.
type RemoteAccount struct {
	Actor storage.Actor
	// Handle is @name@host as its servers vouch for it: the handle asked
	// for when the WebFinger of its host leads to the actor, else
	// @preferredUsername@host-of-the-actor.
	Handle string
}

// Resolver finds remote actors by handle: WebFinger, then a signed fetch
// of the actor (federation implements it).
type Resolver interface {
	ResolveHandle(ctx context.Context, user, host string) (RemoteAccount, error)
}

// APIAccount is what a server's Mastodon client API says of the account
// that approved us.
type APIAccount struct {
	Username string // the local part
	Acct     string // "name" for a local account, "name@host" for a remote one
}

// AccountServer speaks the Mastodon client API of a member's server
// (federation/mastodon implements it).
type AccountServer interface {
	// RegisterApp registers an app with server (an origin) for
	// redirectURI and scope read:accounts (POST /api/v1/apps).
	RegisterApp(ctx context.Context, server, redirectURI string) (storage.OAuthApp, error)
	// AuthorizeURL is where the browser approves app: /oauth/authorize
	// with the state and a PKCE S256 challenge.
	AuthorizeURL(app storage.OAuthApp, state, codeChallenge string) string
	// Exchange trades an authorization code for an access token
	// (/oauth/token).
	Exchange(ctx context.Context, app storage.OAuthApp, code, codeVerifier string) (string, error)
	// VerifyCredentials reads the account of an access token
	// (/api/v1/accounts/verify_credentials).
	VerifyCredentials(ctx context.Context, server, accessToken string) (APIAccount, error)
}

// SignInError is a sign-in refused for a reason the person signing in can
// read and act on.
type SignInError struct {
	Reason string
	Err    error // the cause, for our log
}

func (e *SignInError) Error() string {
	if e.Err != nil {
		return "sign in: " + e.Reason + ": " + e.Err.Error()
	}
	return "sign in: " + e.Reason
}

func (e *SignInError) Unwrap() error { return e.Err }

// RateLimitError is a sign-in refused because too many were asked.
type RateLimitError struct {
	RetryAfter time.Duration
	What       string // "this handle" or "your address"
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many sign-ins for %s; retry after %v", e.What, e.RetryAfter)
}

// SignInOptions are the parts of SignIn that reach other servers.
type SignInOptions struct {
	// Resolver finds actors by handle; without it nobody can sign in.
	Resolver Resolver
	// Accounts speaks the Mastodon client API; without it, OAuth is off.
	Accounts AccountServer
	// SessionTTL is how long a member session lasts; 0 means
	// DefaultMemberSessionTTL.
	SessionTTL time.Duration
}

// SignIn signs members in to the site with the fediverse account they
// already have, by a one-time link sent as a direct message or by OAuth
// with their server. It is separate from Service because it needs the
// network; its rules read the Service's store and clock.
type SignIn struct {
	svc        *Service
	resolver   Resolver
	accounts   AccountServer
	sessionTTL time.Duration
}

// NewSignIn returns the sign-in rules over svc.
func NewSignIn(svc *Service, opt SignInOptions) *SignIn {
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = DefaultMemberSessionTTL
	}
	return &SignIn{svc: svc, resolver: opt.Resolver, accounts: opt.Accounts, sessionTTL: opt.SessionTTL}
}

// HasOAuth reports whether signing in with the Mastodon client API is on.
func (si *SignIn) HasOAuth() bool { return si.accounts != nil }

// Handle is a parsed @name@host.
type Handle struct {
	User string
	Host string // normalized by internal/hostname
}

// String is name@host, the key of the per-handle limit (lower case).
func (h Handle) String() string { return strings.ToLower(h.User) + "@" + h.Host }

// handleUserRE is the local part of a handle: what Mastodon, GoToSocial,
// Akkoma, Misskey and Lemmy allow, and nothing that could change a URL.
var handleUserRE = regexp.MustCompile(`^[A-Za-z0-9_.~-]{1,64}$`)

// ParseHandle reads @name@host (also name@host or acct:name@host).
func ParseHandle(s string) (Handle, error) {
	bad := &InvalidError{Fields: map[string]string{"handle": "write your fediverse address as @name@server.example"}}
	s = strings.TrimPrefix(strings.TrimSpace(s), "acct:")
	s = strings.TrimPrefix(s, "@")
	user, host, ok := strings.Cut(s, "@")
	if !ok || !handleUserRE.MatchString(user) || len(s) > 300 {
		return Handle{}, bad
	}
	h, err := hostname.Parse(host)
	if err != nil {
		return Handle{}, bad
	}
	return Handle{User: user, Host: h}, nil
}

// LinkRequest asks for a one-time link by direct message.
type LinkRequest struct {
	Handle     string // as typed
	ClientKey  string // the client's address, for the rate limit
	PreSession string // the token of the asking browser's pre-session cookie
	// LinkPrefix is the link up to the token, e.g.
	// https://host/signin/link?token=
	LinkPrefix string
	// SiteName is how the message names the site, e.g. "Coppice at host".
	SiteName string
}

// SentLink tells where a link went.
type SentLink struct {
	Handle    string // @name@host it was sent to
	ExpiresAt time.Time
}

// RequestLink resolves the handle and sends its actor a direct message from
// the instance actor holding a single-use link, valid for SignInLinkTTL and
// only in the browser whose pre-session asked. The message is queued in
// the same transaction that stores the link's hash.
func (si *SignIn) RequestLink(ctx context.Context, req LinkRequest) (SentLink, error) {
	s := si.svc
	if s.render == nil || si.resolver == nil {
		return SentLink{}, &SignInError{Reason: "signing in is not available on this server"}
	}
	h, err := ParseHandle(req.Handle)
	if err != nil {
		return SentLink{}, err
	}
	if req.PreSession == "" || req.ClientKey == "" {
		return SentLink{}, errors.New("sign-in link: no pre-session or client key")
	}
	now := s.now()
	// The limits are checked before any request leaves, and again in the
	// transaction that writes, where the actor is known too.
	if err := si.checkLimits(ctx, nil, h.String(), "", req.ClientKey, true, now); err != nil {
		return SentLink{}, err
	}
	acc, err := si.resolve(ctx, h)
	if err != nil {
		return SentLink{}, err
	}
	if acc.Actor.Inbox == "" {
		return SentLink{}, &SignInError{Reason: "that account has no inbox to send a message to"}
	}
	token, err := NewToken()
	if err != nil {
		return SentLink{}, err
	}
	q := storage.SignInRequest{
		Kind: storage.SignInLink, TokenHash: hashToken(token), PreSessionHash: hashToken(req.PreSession),
		Handle: h.String(), ActorIRI: acc.Actor.IRI, DisplayHandle: acc.Handle, ClientKey: req.ClientKey,
		CreatedAt: now, ExpiresAt: now.Add(SignInLinkTTL),
	}
	link := req.LinkPrefix + token
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		if err := si.checkLimits(ctx, tx, q.Handle, q.ActorIRI, q.ClientKey, true, now); err != nil {
			return err
		}
		if err := tx.DeleteOldSignInRequests(ctx, now.Add(-signInKept)); err != nil {
			return err
		}
		if _, err := tx.CreateSignInRequest(ctx, q); err != nil {
			return err
		}
		a, err := s.render.SignInNote(acc.Actor, acc.Handle, link, req.SiteName, SignInLinkTTL)
		if err != nil {
			return err
		}
		return s.deliver(ctx, tx, storage.Community{}, a, to(acc.Actor.Inbox))
	})
	if err != nil {
		return SentLink{}, err
	}
	return SentLink{Handle: acc.Handle, ExpiresAt: q.ExpiresAt}, nil
}

// checkLimits refuses a sign-in past the limits: links per handle or actor
// (when link), sign-ins per client address. With tx nil it reads outside a
// transaction.
func (si *SignIn) checkLimits(ctx context.Context, tx *storage.Tx, handle, actorIRI, clientKey string, link bool, now time.Time) error {
	since := now.Add(-SignInWindow)
	var byHandle, byClient int
	var err error
	if tx != nil {
		byHandle, byClient, err = tx.CountSignInRequests(ctx, handle, actorIRI, clientKey, since)
	} else {
		byHandle, byClient, err = si.svc.store.CountSignInRequests(ctx, handle, actorIRI, clientKey, since)
	}
	if err != nil {
		return err
	}
	if link && byHandle >= LinksPerHandle {
		return &RateLimitError{RetryAfter: SignInWindow, What: "this address"}
	}
	if byClient >= SignInsPerClient {
		return &RateLimitError{RetryAfter: SignInWindow, What: "your connection"}
	}
	return nil
}

// resolve finds the account of h, turning network failures into reasons.
func (si *SignIn) resolve(ctx context.Context, h Handle) (RemoteAccount, error) {
	acc, err := si.resolver.ResolveHandle(ctx, h.User, h.Host)
	if err != nil {
		return RemoteAccount{}, &SignInError{Reason: "we could not find @" + h.User + "@" + h.Host + " on its server", Err: err}
	}
	return acc, nil
}

// OpenLink signs in the browser that opened a link: the token must be one
// we sent, unused, unexpired, and asked for by this browser's pre-session.
// It returns the new member session's token. A link opened elsewhere is
// refused and stays usable in the browser that asked.
func (si *SignIn) OpenLink(ctx context.Context, token, preSession string) (string, storage.MemberSession, error) {
	s := si.svc
	if !isToken(token) {
		return "", storage.MemberSession{}, &SignInError{Reason: "this sign-in link is not valid"}
	}
	q, err := s.store.UseSignInRequest(ctx, storage.SignInLink, hashToken(token), hashToken(preSession), s.now())
	if errors.Is(err, storage.ErrNotFound) {
		return "", storage.MemberSession{}, si.whyNot(ctx, storage.SignInLink, token, preSession)
	}
	if err != nil {
		return "", storage.MemberSession{}, err
	}
	return si.startSession(ctx, q.ActorIRI, q.DisplayHandle, storage.SignInLink)
}

// whyNot explains why a token was refused.
func (si *SignIn) whyNot(ctx context.Context, kind, token, preSession string) error {
	what := "sign-in link"
	if kind == storage.SignInOAuth {
		what = "sign-in"
	}
	q, err := si.svc.store.SignInRequestByHash(ctx, hashToken(token))
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && q.Kind != kind):
		return &SignInError{Reason: "this " + what + " is not valid"}
	case err != nil:
		return err
	case !q.UsedAt.IsZero():
		return &SignInError{Reason: "this " + what + " was used already; ask for a new one"}
	case !q.ExpiresAt.After(si.svc.now()):
		return &SignInError{Reason: "this " + what + " expired; ask for a new one"}
	case q.PreSessionHash != hashToken(preSession):
		return &SignInError{Reason: "open the link in the browser where you asked for it"}
	}
	return &SignInError{Reason: "this " + what + " is not valid"}
}

// OAuthRequest starts a sign-in with the member's server.
type OAuthRequest struct {
	Handle      string // as typed
	ClientKey   string
	PreSession  string
	RedirectURI string // our callback, registered with the app
}

// StartOAuth resolves the handle, registers an app with the actor's server
// once, stores a single-use state bound to the pre-session, and returns the
// URL of the server's authorization page.
func (si *SignIn) StartOAuth(ctx context.Context, req OAuthRequest) (string, error) {
	s := si.svc
	if si.accounts == nil || si.resolver == nil {
		return "", &SignInError{Reason: "signing in with your server is not available here; ask for a link instead"}
	}
	h, err := ParseHandle(req.Handle)
	if err != nil {
		return "", err
	}
	if req.PreSession == "" || req.ClientKey == "" || req.RedirectURI == "" {
		return "", errors.New("start oauth: no pre-session, client key or redirect URI")
	}
	now := s.now()
	if err := si.checkLimits(ctx, nil, h.String(), "", req.ClientKey, false, now); err != nil {
		return "", err
	}
	acc, err := si.resolve(ctx, h)
	if err != nil {
		return "", err
	}
	server, err := origin(acc.Actor.IRI)
	if err != nil {
		return "", &SignInError{Reason: "that account's address is not usable", Err: err}
	}
	app, err := s.store.OAuthApp(ctx, server, req.RedirectURI)
	if errors.Is(err, storage.ErrNotFound) {
		app, err = si.accounts.RegisterApp(ctx, server, req.RedirectURI)
		if err != nil {
			return "", &SignInError{Reason: "your server does not let us sign you in with it; ask for a link by direct message instead", Err: err}
		}
		app.Server, app.RedirectURI, app.CreatedAt = server, req.RedirectURI, now
		err = s.store.SaveOAuthApp(ctx, app)
	}
	if err != nil {
		return "", err
	}
	state, err := NewToken()
	if err != nil {
		return "", err
	}
	verifier, err := NewToken()
	if err != nil {
		return "", err
	}
	q := storage.SignInRequest{
		Kind: storage.SignInOAuth, TokenHash: hashToken(state), PreSessionHash: hashToken(req.PreSession),
		Handle: h.String(), ActorIRI: acc.Actor.IRI, DisplayHandle: acc.Handle, Server: server,
		CodeVerifier: verifier, ClientKey: req.ClientKey, CreatedAt: now, ExpiresAt: now.Add(OAuthStateTTL),
	}
	err = s.store.InTx(ctx, func(tx *storage.Tx) error {
		if err := si.checkLimits(ctx, tx, q.Handle, "", q.ClientKey, false, now); err != nil {
			return err
		}
		_, err := tx.CreateSignInRequest(ctx, q)
		return err
	})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(verifier))
	return si.accounts.AuthorizeURL(app, state, base64.RawURLEncoding.EncodeToString(sum[:])), nil
}

// OAuthCallback is what the member's server sent the browser back with.
type OAuthCallback struct {
	State       string
	Code        string
	PreSession  string
	RedirectURI string
}

// FinishOAuth completes a sign-in with the member's server: the state must
// be ours, unused, unexpired and this browser's; the code is exchanged for
// a token, the token's account is read, and mapped to its actor by
// WebFinger on that server. The actor must live on the server that vouched
// for it: a server cannot sign anyone in as an account of another server.
func (si *SignIn) FinishOAuth(ctx context.Context, cb OAuthCallback) (string, storage.MemberSession, error) {
	s := si.svc
	none := storage.MemberSession{}
	if si.accounts == nil || si.resolver == nil {
		return "", none, &SignInError{Reason: "signing in with your server is not available here"}
	}
	if !isToken(cb.State) {
		return "", none, &SignInError{Reason: "this sign-in is not valid"}
	}
	q, err := s.store.UseSignInRequest(ctx, storage.SignInOAuth, hashToken(cb.State), hashToken(cb.PreSession), s.now())
	if errors.Is(err, storage.ErrNotFound) {
		return "", none, si.whyNot(ctx, storage.SignInOAuth, cb.State, cb.PreSession)
	}
	if err != nil {
		return "", none, err
	}
	if cb.Code == "" || len(cb.Code) > 512 {
		return "", none, &SignInError{Reason: "your server sent no authorization code"}
	}
	app, err := s.store.OAuthApp(ctx, q.Server, cb.RedirectURI)
	if err != nil {
		return "", none, fmt.Errorf("oauth app of %s: %w", q.Server, err)
	}
	token, err := si.accounts.Exchange(ctx, app, cb.Code, q.CodeVerifier)
	if err != nil {
		return "", none, &SignInError{Reason: "your server did not accept the authorization; try again", Err: err}
	}
	acct, err := si.accounts.VerifyCredentials(ctx, q.Server, token)
	if err != nil {
		return "", none, &SignInError{Reason: "your server did not tell us who you are; try again", Err: err}
	}
	serverHost := hostname.Of(q.Server)
	if strings.Contains(acct.Acct, "@") || !handleUserRE.MatchString(acct.Username) {
		return "", none, &SignInError{Reason: "your server vouched for an account it does not host",
			Err: fmt.Errorf("account %q (%q) of %s", acct.Username, acct.Acct, q.Server)}
	}
	acc, err := si.resolver.ResolveHandle(ctx, acct.Username, serverHost)
	if err != nil {
		return "", none, &SignInError{Reason: "we could not find the account your server vouched for", Err: err}
	}
	if hostname.Of(acc.Actor.IRI) != serverHost {
		return "", none, &SignInError{Reason: "your server vouched for an account it does not host",
			Err: fmt.Errorf("%s@%s is %s", acct.Username, serverHost, acc.Actor.IRI)}
	}
	display := acc.Handle
	if acc.Actor.IRI == q.ActorIRI {
		display = q.DisplayHandle // the handle that was typed, as it was vouched for
	}
	return si.startSession(ctx, acc.Actor.IRI, display, storage.SignInOAuth)
}

// startSession starts a member session and returns its cookie's token.
func (si *SignIn) startSession(ctx context.Context, actorIRI, handle, method string) (string, storage.MemberSession, error) {
	s := si.svc
	token, err := NewToken()
	if err != nil {
		return "", storage.MemberSession{}, err
	}
	csrf, err := NewToken()
	if err != nil {
		return "", storage.MemberSession{}, err
	}
	now := s.now()
	if err := s.store.DeleteExpiredMemberSessions(ctx, now); err != nil {
		return "", storage.MemberSession{}, err
	}
	m := storage.MemberSession{TokenHash: hashToken(token), ActorIRI: actorIRI, Handle: handle, Method: method,
		CSRFToken: csrf, CreatedAt: now, ExpiresAt: now.Add(si.sessionTTL)}
	if err := s.store.CreateMemberSession(ctx, m); err != nil {
		return "", storage.MemberSession{}, err
	}
	return token, m, nil
}

// Member returns the live member session a cookie's token names, or
// ErrNotFound.
func (si *SignIn) Member(ctx context.Context, token string) (storage.MemberSession, error) {
	if !isToken(token) {
		return storage.MemberSession{}, ErrNotFound
	}
	return si.svc.store.MemberSessionByHash(ctx, hashToken(token), si.svc.now())
}

// SignOut ends the member session a token names.
func (si *SignIn) SignOut(ctx context.Context, token string) error {
	return si.svc.store.DeleteMemberSession(ctx, hashToken(token))
}

// SessionTTL is how long a member session lasts.
func (si *SignIn) SessionTTL() time.Duration { return si.sessionTTL }

// isToken reports whether s has the shape of a token made by NewToken.
func isToken(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// origin returns scheme://host[:port] of an actor IRI.
func origin(rawIRI string) (string, error) {
	u, err := url.Parse(rawIRI)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("actor %q has no http(s) origin", rawIRI)
	}
	return u.Scheme + "://" + u.Host, nil
}
