package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/coppice-dev/coppice/internal/media"
)

// ConsoleOptions are the optional parts of the /admin console.
type ConsoleOptions struct {
	// Now is the clock of the login rate limit; nil means time.Now.
	// Session expiry follows the community service's clock.
	Now func() time.Time
	// SessionTTL is how long a console session lasts; 0 means 12 hours.
	SessionTTL time.Duration
	// MaxUpload is the largest file a resource upload may carry; 0 means
	// media.DefaultMaxBytes. The media store enforces its own limit too.
	MaxUpload int64
}

// console is the state of the /admin console.
type console struct {
	now       func() time.Time
	ttl       time.Duration
	maxUpload int64
	secure    bool // cookies carry Secure: the base URL is https
	// checks bounds concurrent password checks: each argon2id hash takes
	// 64 MiB of memory.
	checks chan struct{}
}

func newConsole(base *url.URL, opts ConsoleOptions) *console {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.MaxUpload <= 0 {
		opts.MaxUpload = media.DefaultMaxBytes
	}
	return &console{
		now: opts.Now, ttl: opts.SessionTTL, maxUpload: opts.MaxUpload,
		secure: base.Scheme == "https",
		checks: make(chan struct{}, 2),
	}
}

// WithConsole sets the console's options and returns s. Call it before
// Console.
func (s *Site) WithConsole(opts ConsoleOptions) *Site {
	s.console = newConsole(s.base, opts)
	return s
}

// Console is the /admin console: one handler per page or action.
// internal/server's routes.go lists their routes. Every handler but the
// login page's needs a signed-in console user and redirects to the login
// page without one; a POST is CSRF-checked first.
type Console struct{ s *Site }

// Console returns the handlers of the /admin console.
func (s *Site) Console() Console { return Console{s} }

// LoginPage is the login form.
func (c Console) LoginPage() http.Handler { return c.s.serveConsole(c.s.loginPage) }

// Login checks a password and starts a session, within the login rate limit.
func (c Console) Login() http.Handler { return c.s.serveConsole(c.s.login) }

// Logout ends the session.
func (c Console) Logout() http.Handler { return c.s.signedIn(c.s.logout) }

// Dashboard is the console's front page: the communities the user runs and the delivery queue.
func (c Console) Dashboard() http.Handler { return c.s.signedIn(c.s.dashboard) }

// Communities lists the communities the user may run.
func (c Console) Communities() http.Handler { return c.s.signedIn(c.s.communities) }

// CreateCommunity creates a community.
func (c Console) CreateCommunity() http.Handler { return c.s.signedIn(c.s.createCommunity) }

// CommunitySettings shows a community's profile and settings.
func (c Console) CommunitySettings() http.Handler { return c.s.signedIn(c.s.communitySettings) }

// SaveCommunity saves a community's settings.
func (c Console) SaveCommunity() http.Handler { return c.s.signedIn(c.s.saveCommunity) }

// ArchiveCommunity archives or restores a community.
func (c Console) ArchiveCommunity() http.Handler { return c.s.signedIn(c.s.archiveCommunity) }

// SaveIcon sets a community's icon.
func (c Console) SaveIcon() http.Handler { return c.s.signedIn(c.s.saveIcon) }

// Members lists a community's pending requests, members and bans.
func (c Console) Members() http.Handler { return c.s.signedIn(c.s.members) }

// ApproveFollow approves a pending follow request.
func (c Console) ApproveFollow() http.Handler { return c.s.signedIn(c.s.decideFollow) }

// RejectFollow rejects a pending follow request.
func (c Console) RejectFollow() http.Handler { return c.s.signedIn(c.s.decideFollow) }

// SetRole gives a member a role.
func (c Console) SetRole() http.Handler { return c.s.signedIn(c.s.setRole) }

// Ban bans an actor from a community.
func (c Console) Ban() http.Handler { return c.s.signedIn(c.s.ban) }

// Unban lifts a ban.
func (c Console) Unban() http.Handler { return c.s.signedIn(c.s.unban) }

// Moderation shows a community's open reports and moderation log.
func (c Console) Moderation() http.Handler { return c.s.signedIn(c.s.moderation) }

// ReviewHeld approves or rejects a post waiting for a moderator.
func (c Console) ReviewHeld() http.Handler { return c.s.signedIn(c.s.reviewHeld) }

// ResolveReport resolves a report.
func (c Console) ResolveReport() http.Handler { return c.s.signedIn(c.s.resolveReport) }

// Resources lists a community's resources.
func (c Console) Resources() http.Handler { return c.s.signedIn(c.s.resources) }

// AddResource adds a resource, a link or an uploaded file.
func (c Console) AddResource() http.Handler { return c.s.signedIn(c.s.addResource) }

// SetResourceState publishes or archives a resource.
func (c Console) SetResourceState() http.Handler { return c.s.signedIn(c.s.setResourceState) }

// Meetings lists a community's meetings.
func (c Console) Meetings() http.Handler { return c.s.signedIn(c.s.meetings) }

// CreateMeeting schedules a meeting.
func (c Console) CreateMeeting() http.Handler { return c.s.signedIn(c.s.createMeeting) }

// UpdateMeeting changes a meeting.
func (c Console) UpdateMeeting() http.Handler { return c.s.signedIn(c.s.updateMeeting) }

// CancelMeeting cancels a meeting.
func (c Console) CancelMeeting() http.Handler { return c.s.signedIn(c.s.cancelMeeting) }

// Wiki lists a community's wiki pages, with the form that writes one.
func (c Console) Wiki() http.Handler { return c.s.signedIn(c.s.wiki) }

// SaveWiki saves a wiki page.
func (c Console) SaveWiki() http.Handler { return c.s.signedIn(c.s.saveWiki) }

// RevertWiki reverts a wiki page to an earlier revision.
func (c Console) RevertWiki() http.Handler { return c.s.signedIn(c.s.revertWiki) }

// SetWikiPolicy sets who may edit a community's wiki.
func (c Console) SetWikiPolicy() http.Handler { return c.s.signedIn(c.s.setWikiPolicy) }

// Decisions lists a community's decisions.
func (c Console) Decisions() http.Handler { return c.s.signedIn(c.s.decisions) }

// OpenDecision opens a decision (a poll).
func (c Console) OpenDecision() http.Handler { return c.s.signedIn(c.s.openDecision) }

// CloseDecision closes a decision.
func (c Console) CloseDecision() http.Handler { return c.s.signedIn(c.s.closeDecision) }

// Brokers lists the communities a community follows and what brokers shared into it.
func (c Console) Brokers() http.Handler { return c.s.signedIn(c.s.brokers) }

// Share shares something into a community as the signed-in broker.
func (c Console) Share() http.Handler { return c.s.signedIn(c.s.share) }

// Federation shows the federation mode, the domain policies and the known hosts' delivery health.
func (c Console) Federation() http.Handler { return c.s.signedIn(c.s.federation) }

// SetFederationMode sets open or allowlist federation.
func (c Console) SetFederationMode() http.Handler { return c.s.signedIn(c.s.setFederationMode) }

// SetDomainPolicy blocks, silences, allows or clears a host.
func (c Console) SetDomainPolicy() http.Handler { return c.s.signedIn(c.s.setDomainPolicy) }

// RetryHost makes the deliveries to a host due now.
func (c Console) RetryHost() http.Handler { return c.s.signedIn(c.s.retryHost) }

// Accounts lists the console accounts.
func (c Console) Accounts() http.Handler { return c.s.signedIn(c.s.accounts) }

// CreateAccount creates a console account.
func (c Console) CreateAccount() http.Handler { return c.s.signedIn(c.s.createAccount) }

// SetSteward gives a steward account the charge of a community.
func (c Console) SetSteward() http.Handler { return c.s.signedIn(c.s.setSteward) }

// RemoveSteward takes a community from a steward.
func (c Console) RemoveSteward() http.Handler { return c.s.signedIn(c.s.removeSteward) }

// DeleteAccount deletes a console account.
func (c Console) DeleteAccount() http.Handler { return c.s.signedIn(c.s.deleteAccount) }

// AuditLog shows the latest console actions.
func (c Console) AuditLog() http.Handler { return c.s.signedIn(c.s.auditLog) }

// NotFound answers any other /admin/ path: 404, but only to a signed-in
// user.
func (c Console) NotFound() http.Handler {
	return c.s.signedIn(func(http.ResponseWriter, *http.Request, *consoleReq) error { return errNotFound })
}
