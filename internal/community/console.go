package community

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coppice-dev/coppice/storage"
)

// ConsoleUser is a signed-in console account with the communities it runs.
type ConsoleUser struct {
	Account      storage.Account
	Stewardships []storage.Stewardship
}

// IsAdmin reports whether u is an instance admin, who may do everything.
func (u ConsoleUser) IsAdmin() bool { return u.Account.Kind == storage.AccountAdmin }

// Capability is something a console user may do in a community.
type Capability int

// Capabilities in a community, from the least to the most.
const (
	// CanView: see the community's console pages.
	CanView Capability = iota
	// CanCurate: publish and archive resources, schedule and cancel
	// meetings. Moderators and brokers curate the shared repertoire.
	CanCurate
	// CanModerate: edit the community, decide follow requests, give roles,
	// ban, resolve reports. Moderators only.
	CanModerate
)

// May reports whether u may do what in community c: an admin everything,
// a steward what its role allows in the communities it was given, nothing
// elsewhere.
func (u ConsoleUser) May(c storage.Community, what Capability) bool {
	if u.IsAdmin() {
		return true
	}
	for _, sh := range u.Stewardships {
		if sh.CommunityID != c.ID {
			continue
		}
		return what != CanModerate || sh.Role == storage.RoleModerator
	}
	return false
}

// StewardRole returns u's role in community c ("" when it has none).
func (u ConsoleUser) StewardRole(communityID int64) string {
	for _, sh := range u.Stewardships {
		if sh.CommunityID == communityID {
			return sh.Role
		}
	}
	return ""
}

// ConsoleSession is a live console session and who holds it.
type ConsoleSession struct {
	User    ConsoleUser
	Session storage.Session
}

// tokenBytes is the size of session tokens and CSRF tokens.
const tokenBytes = 32

// NewToken returns tokenBytes random bytes, base64url-encoded.
func NewToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hashToken is what the sessions table keeps of a token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Login checks a console user's password and starts a session of ttl. A
// wrong password or an unknown username is ErrForbidden.
func (s *Service) Login(ctx context.Context, username, password string, ttl time.Duration) (string, ConsoleSession, error) {
	if len(password) > MaxPassword {
		return "", ConsoleSession{}, ErrForbidden
	}
	a, err := s.CheckPassword(ctx, username, password)
	if err != nil {
		return "", ConsoleSession{}, err
	}
	token, cs, err := s.StartSession(ctx, a.ID, ttl)
	if err != nil {
		return "", ConsoleSession{}, err
	}
	return token, cs, s.Audit(ctx, storage.AuditEntry{Username: a.Username, Action: "login"})
}

// StartSession starts a session of ttl for an account and returns the
// token for its cookie. Only the token's SHA-256 is stored. Expired
// sessions are cleared on the way.
func (s *Service) StartSession(ctx context.Context, accountID int64, ttl time.Duration) (string, ConsoleSession, error) {
	u, err := s.consoleUser(ctx, accountID)
	if err != nil {
		return "", ConsoleSession{}, err
	}
	token, err := NewToken()
	if err != nil {
		return "", ConsoleSession{}, err
	}
	csrf, err := NewToken()
	if err != nil {
		return "", ConsoleSession{}, err
	}
	now := s.now()
	if err := s.store.DeleteExpiredSessions(ctx, now); err != nil {
		return "", ConsoleSession{}, err
	}
	se := storage.Session{TokenHash: hashToken(token), AccountID: accountID, CSRFToken: csrf, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.store.CreateSession(ctx, se); err != nil {
		return "", ConsoleSession{}, err
	}
	return token, ConsoleSession{User: u, Session: se}, nil
}

// Session returns the live session a cookie's token names, or ErrNotFound
// when it is unknown, expired or ended.
func (s *Service) Session(ctx context.Context, token string) (ConsoleSession, error) {
	if base64.RawURLEncoding.EncodedLen(tokenBytes) != len(token) {
		return ConsoleSession{}, ErrNotFound
	}
	se, err := s.store.SessionByHash(ctx, hashToken(token), s.now())
	if err != nil {
		return ConsoleSession{}, err
	}
	u, err := s.consoleUser(ctx, se.AccountID)
	if err != nil {
		return ConsoleSession{}, err
	}
	return ConsoleSession{User: u, Session: se}, nil
}

// Logout ends the session a token names.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.store.DeleteSession(ctx, hashToken(token))
}

func (s *Service) consoleUser(ctx context.Context, accountID int64) (ConsoleUser, error) {
	a, err := s.store.AccountByID(ctx, accountID)
	if err != nil {
		return ConsoleUser{}, err
	}
	u := ConsoleUser{Account: a}
	if a.Kind == storage.AccountSteward {
		if u.Stewardships, err = s.store.Stewardships(ctx, a.ID); err != nil {
			return ConsoleUser{}, err
		}
	}
	return u, nil
}

// NewAccount is the input of CreateAccount.
type NewAccount struct {
	Username string
	Password string
	Kind     string // storage.AccountAdmin or storage.AccountSteward
}

// Validate returns a message per bad field, or nil. The rules are those of
// CreateAdmin.
func (n NewAccount) Validate() map[string]string {
	errs := map[string]string{}
	if !usernameRE.MatchString(n.Username) {
		errs["username"] = "use 2 to 64 lower-case letters, digits, dots, dashes or underscores"
	}
	if len(n.Password) < MinPassword {
		errs["password"] = fmt.Sprintf("at least %d characters", MinPassword)
	} else if len(n.Password) > MaxPassword {
		errs["password"] = fmt.Sprintf("at most %d bytes", MaxPassword)
	}
	if n.Kind != storage.AccountAdmin && n.Kind != storage.AccountSteward {
		errs["kind"] = "must be admin or steward"
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// CreateAccount creates a console account of either kind with an argon2id
// hash of its password. A taken username is ErrConflict.
func (s *Service) CreateAccount(ctx context.Context, n NewAccount) (storage.Account, error) {
	if errs := n.Validate(); errs != nil {
		return storage.Account{}, &InvalidError{Fields: errs}
	}
	hash, err := hashPassword(n.Password)
	if err != nil {
		return storage.Account{}, err
	}
	return s.store.CreateAccount(ctx, storage.Account{Username: n.Username, Kind: n.Kind, CreatedAt: s.now()}, hash)
}

// Accounts lists every console account with the communities it runs.
func (s *Service) Accounts(ctx context.Context) ([]ConsoleUser, error) {
	as, err := s.store.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	shs, err := s.store.Stewardships(ctx, 0)
	if err != nil {
		return nil, err
	}
	out := make([]ConsoleUser, 0, len(as))
	for _, a := range as {
		u := ConsoleUser{Account: a}
		for _, sh := range shs {
			if sh.AccountID == a.ID {
				u.Stewardships = append(u.Stewardships, sh)
			}
		}
		out = append(out, u)
	}
	return out, nil
}

// SetSteward gives a steward account the charge of a community as its
// moderator or broker.
func (s *Service) SetSteward(ctx context.Context, username, communityName, role string) error {
	if role != storage.RoleModerator && role != storage.RoleBroker {
		return &InvalidError{Fields: map[string]string{"role": "must be moderator or broker"}}
	}
	a, err := s.store.AccountByUsername(ctx, username)
	if err != nil {
		return err
	}
	if a.Kind != storage.AccountSteward {
		return &InvalidError{Fields: map[string]string{"username": "an admin runs every community already"}}
	}
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return err
	}
	return s.store.SetSteward(ctx, storage.Stewardship{AccountID: a.ID, CommunityID: c.ID, Role: role}, s.now())
}

// RemoveSteward takes a community from a steward.
func (s *Service) RemoveSteward(ctx context.Context, username, communityName string) error {
	a, err := s.store.AccountByUsername(ctx, username)
	if err != nil {
		return err
	}
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return err
	}
	return s.store.RemoveSteward(ctx, a.ID, c.ID)
}

// DeleteAccount deletes a console account and ends its sessions. Nobody
// deletes their own account, so an instance always keeps an admin.
func (s *Service) DeleteAccount(ctx context.Context, username, by string) error {
	if username == by {
		return refused("you cannot delete your own account")
	}
	a, err := s.store.AccountByUsername(ctx, username)
	if err != nil {
		return err
	}
	return s.store.DeleteAccount(ctx, a.ID)
}

// Audit records a console action at the service's clock.
func (s *Service) Audit(ctx context.Context, e storage.AuditEntry) error {
	e.At = s.now()
	return s.store.RecordAudit(ctx, e)
}

// AuditLog returns the latest limit console actions, newest first.
func (s *Service) AuditLog(ctx context.Context, limit int) ([]storage.AuditEntry, error) {
	return s.store.AuditLog(ctx, limit)
}

// CommunityEdit is what the console changes of a community's profile.
type CommunityEdit struct {
	Title    string
	Summary  string
	Rules    string
	JoinMode string
}

// Validate returns a message per bad field, or nil, with the rules of
// NewCommunity.
func (e CommunityEdit) Validate() map[string]string {
	errs := map[string]string{}
	if strings.TrimSpace(e.Title) == "" {
		errs["title"] = "required"
	} else if utf8.RuneCountInString(e.Title) > MaxTitle {
		errs["title"] = fmt.Sprintf("at most %d characters", MaxTitle)
	}
	if utf8.RuneCountInString(e.Summary) > MaxSummary {
		errs["summary"] = fmt.Sprintf("at most %d characters", MaxSummary)
	}
	if utf8.RuneCountInString(e.Rules) > MaxSummary {
		errs["rules"] = fmt.Sprintf("at most %d characters", MaxSummary)
	}
	switch e.JoinMode {
	case JoinOpen, JoinApproval, JoinInvite:
	default:
		errs["join"] = "must be open, approval or invite"
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// EditCommunity changes a community's title, summary, rules and join mode,
// and sends Update{Group} to its followers.
func (s *Service) EditCommunity(ctx context.Context, name string, e CommunityEdit) (storage.Community, error) {
	if errs := e.Validate(); errs != nil {
		return storage.Community{}, &InvalidError{Fields: errs}
	}
	c, err := s.store.CommunityByName(ctx, name)
	if err != nil {
		return storage.Community{}, err
	}
	p := storage.CommunityProfile{Title: strings.TrimSpace(e.Title), Summary: strings.TrimSpace(e.Summary), Rules: strings.TrimSpace(e.Rules), JoinMode: e.JoinMode, UpdatedAt: s.now()}
	if err := s.store.UpdateCommunityProfile(ctx, c.ID, p); err != nil {
		return storage.Community{}, err
	}
	if err := s.announceProfile(ctx, name); err != nil {
		return storage.Community{}, err
	}
	return s.store.CommunityByName(ctx, name)
}

// ArchiveCommunity archives a community (archive true): it is closed to new
// members (join mode invite) and to posts by anyone but its moderators.
// With archive false it is restored, still closed until a moderator opens
// it again.
func (s *Service) ArchiveCommunity(ctx context.Context, name string, archive bool) error {
	c, err := s.store.CommunityByName(ctx, name)
	if err != nil {
		return err
	}
	var at time.Time
	if archive {
		at = s.now()
	}
	if err := s.store.SetCommunityArchived(ctx, c.ID, at, s.now()); err != nil {
		return err
	}
	return s.announceProfile(ctx, name)
}

// Dashboard is what the console's first page shows.
type Dashboard struct {
	// Communities the user may see, with their counts; RecentPosts are
	// those of the last 7 days.
	Communities  []storage.CommunityStats
	Members      int
	Pending      int
	RecentPosts  int
	OpenReports  int
	Queued       int // deliveries waiting
	Failed       int // deliveries given up
	FailingHosts int
}

// Dashboard counts, for the communities u may see, members, pending
// requests, posts of the last 7 days and open reports, and the state of
// the delivery queue.
func (s *Service) Dashboard(ctx context.Context, u ConsoleUser) (Dashboard, error) {
	stats, err := s.store.CommunityStats(ctx, s.now().Add(-7*24*time.Hour))
	if err != nil {
		return Dashboard{}, err
	}
	var d Dashboard
	for _, cs := range stats {
		if !u.May(storage.Community{ID: cs.ID}, CanView) {
			continue
		}
		d.Communities = append(d.Communities, cs)
		d.Members += cs.Members
		d.Pending += cs.Pending
		d.RecentPosts += cs.RecentPosts
		d.OpenReports += cs.OpenReports
	}
	if d.Queued, d.Failed, err = s.store.QueueStats(ctx); err != nil {
		return Dashboard{}, err
	}
	if d.FailingHosts, err = s.store.CountFailingHosts(ctx); err != nil {
		return Dashboard{}, err
	}
	return d, nil
}

// KnownHosts lists the remote hosts we know, failing ones first, with
// their last delivery success and failure.
func (s *Service) KnownHosts(ctx context.Context) ([]storage.KnownHost, error) {
	return s.store.KnownHosts(ctx, 1000)
}

// RetryHost makes every delivery to host due now and clears its failure
// marks, then wakes the delivery worker. It returns how many deliveries are
// due.
func (s *Service) RetryHost(ctx context.Context, host string) (int, error) {
	host = strings.ToLower(strings.TrimSpace(host))
	if host == "" {
		return 0, &InvalidError{Fields: map[string]string{"host": "required"}}
	}
	n, err := s.store.RetryHost(ctx, host, s.now())
	if err != nil {
		return 0, err
	}
	s.queued()
	return n, nil
}

// Bans lists the actors banned from a community, latest first.
func (s *Service) Bans(ctx context.Context, c storage.Community) ([]storage.Ban, error) {
	return s.store.Bans(ctx, c.ID, 1000)
}

// ReportByID returns a report by row ID, or ErrNotFound.
func (s *Service) ReportByID(ctx context.Context, id int64) (storage.Report, error) {
	return s.store.ReportByID(ctx, id)
}

// IconTypes are the image types a community icon may have, by extension.
var iconTypes = map[string]string{".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}

// IconType returns the media type of an icon file extension, or "".
func IconType(ext string) string { return iconTypes[ext] }

// SetIcon makes an uploaded image (already checked and stored by
// internal/media) the community's icon and sends Update{Group}.
func (s *Service) SetIcon(ctx context.Context, name, hash, ext string) error {
	if hash != "" && IconType(ext) == "" {
		return &InvalidError{Fields: map[string]string{"icon": "must be a PNG, JPEG, GIF or WebP image"}}
	}
	c, err := s.store.CommunityByName(ctx, name)
	if err != nil {
		return err
	}
	if err := s.store.SetCommunityIcon(ctx, c.ID, hash, ext, s.now()); err != nil {
		return err
	}
	return s.announceProfile(ctx, name)
}

// Console sign-in limit: this many failures per key within the window,
// then refused until the oldest of them leaves it. Counted in the
// database, so the limit holds whichever process a guess reaches.
const (
	LoginFailures = 5
	LoginWindow   = 15 * time.Minute
)

// LoginWait returns how long a console sign-in counted under keys (a
// client address; an address and a username) must wait; 0: go ahead.
func (s *Service) LoginWait(ctx context.Context, keys ...string) (time.Duration, error) {
	return s.store.LoginWait(ctx, keys, s.now(), LoginFailures, LoginWindow)
}

// LoginFailed counts a failed console sign-in under each of keys.
func (s *Service) LoginFailed(ctx context.Context, keys ...string) error {
	return s.store.RecordLoginFailure(ctx, keys, s.now(), LoginWindow)
}

// LoginSucceeded forgets the failures counted under key.
func (s *Service) LoginSucceeded(ctx context.Context, key string) error {
	return s.store.ClearLoginFailures(ctx, key)
}
