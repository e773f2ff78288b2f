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

// Login rate limit: this many failures per key within the window, then 429.
const (
	loginFailures = 5
	loginWindow   = 15 * time.Minute
)

// console is the state of the /admin console.
type console struct {
	now       func() time.Time
	ttl       time.Duration
	maxUpload int64
	secure    bool // cookies carry Secure: the base URL is https
	limiter   *loginLimiter
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
		secure:  base.Scheme == "https",
		limiter: newLoginLimiter(opts.Now, loginFailures, loginWindow),
		checks:  make(chan struct{}, 2),
	}
}

// WithConsole sets the console's options and returns s. Call it before
// Admin.
func (s *Site) WithConsole(opts ConsoleOptions) *Site {
	s.console = newConsole(s.base, opts)
	return s
}

// Admin serves the /admin console: every route of it is listed here.
// internal/server routes the whole /admin prefix to this handler, so the
// console's own routes live with it, on a standard library ServeMux.
func (s *Site) Admin() http.Handler {
	m := http.NewServeMux()
	m.Handle("GET /admin", http.RedirectHandler("/admin/", http.StatusMovedPermanently))
	m.Handle("GET /admin/login", s.serveConsole(s.loginPage))
	m.Handle("POST /admin/login", s.serveConsole(s.login))
	m.Handle("POST /admin/logout", s.signedIn(s.logout))

	m.Handle("GET /admin/{$}", s.signedIn(s.dashboard))
	m.Handle("GET /admin/communities", s.signedIn(s.communities))
	m.Handle("POST /admin/communities", s.signedIn(s.createCommunity))
	m.Handle("GET /admin/communities/{name}", s.signedIn(s.communitySettings))
	m.Handle("POST /admin/communities/{name}", s.signedIn(s.saveCommunity))
	m.Handle("POST /admin/communities/{name}/archive", s.signedIn(s.archiveCommunity))
	m.Handle("POST /admin/communities/{name}/icon", s.signedIn(s.saveIcon))

	m.Handle("GET /admin/communities/{name}/members", s.signedIn(s.members))
	m.Handle("POST /admin/communities/{name}/members/approve", s.signedIn(s.decideFollow))
	m.Handle("POST /admin/communities/{name}/members/reject", s.signedIn(s.decideFollow))
	m.Handle("POST /admin/communities/{name}/members/role", s.signedIn(s.setRole))
	m.Handle("POST /admin/communities/{name}/members/ban", s.signedIn(s.ban))
	m.Handle("POST /admin/communities/{name}/members/unban", s.signedIn(s.unban))

	m.Handle("GET /admin/communities/{name}/moderation", s.signedIn(s.moderation))
	m.Handle("POST /admin/communities/{name}/moderation/resolve", s.signedIn(s.resolveReport))

	m.Handle("GET /admin/communities/{name}/resources", s.signedIn(s.resources))
	m.Handle("POST /admin/communities/{name}/resources", s.signedIn(s.addResource))
	m.Handle("POST /admin/communities/{name}/resources/state", s.signedIn(s.setResourceState))

	m.Handle("GET /admin/communities/{name}/meetings", s.signedIn(s.meetings))
	m.Handle("POST /admin/communities/{name}/meetings", s.signedIn(s.createMeeting))
	m.Handle("POST /admin/communities/{name}/meetings/update", s.signedIn(s.updateMeeting))
	m.Handle("POST /admin/communities/{name}/meetings/cancel", s.signedIn(s.cancelMeeting))

	m.Handle("GET /admin/communities/{name}/wiki", s.signedIn(s.wiki))
	m.Handle("POST /admin/communities/{name}/wiki", s.signedIn(s.saveWiki))
	m.Handle("POST /admin/communities/{name}/wiki/revert", s.signedIn(s.revertWiki))
	m.Handle("POST /admin/communities/{name}/wiki/policy", s.signedIn(s.setWikiPolicy))

	m.Handle("GET /admin/communities/{name}/decisions", s.signedIn(s.decisions))
	m.Handle("POST /admin/communities/{name}/decisions", s.signedIn(s.openDecision))
	m.Handle("POST /admin/communities/{name}/decisions/close", s.signedIn(s.closeDecision))

	m.Handle("GET /admin/communities/{name}/brokers", s.signedIn(s.brokers))
	m.Handle("POST /admin/communities/{name}/brokers/share", s.signedIn(s.share))

	m.Handle("GET /admin/federation", s.signedIn(s.federation))
	m.Handle("POST /admin/federation/mode", s.signedIn(s.setFederationMode))
	m.Handle("POST /admin/federation/policy", s.signedIn(s.setDomainPolicy))
	m.Handle("POST /admin/federation/retry", s.signedIn(s.retryHost))

	m.Handle("GET /admin/accounts", s.signedIn(s.accounts))
	m.Handle("POST /admin/accounts", s.signedIn(s.createAccount))
	m.Handle("POST /admin/accounts/steward", s.signedIn(s.setSteward))
	m.Handle("POST /admin/accounts/unsteward", s.signedIn(s.removeSteward))
	m.Handle("POST /admin/accounts/delete", s.signedIn(s.deleteAccount))

	m.Handle("GET /admin/audit", s.signedIn(s.auditLog))

	m.Handle("/admin/", s.signedIn(func(http.ResponseWriter, *http.Request, *consoleReq) error { return errNotFound }))
	return m
}
