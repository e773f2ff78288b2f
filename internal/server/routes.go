package server

import (
	"net/http"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/web"
	"github.com/gorilla/mux"
)

// Routes returns the router of the whole instance. It is the only place
// that lists routes, the console's included: the access log and the
// metrics name each request by the pattern of its route.
func Routes(fed *federation.Handler, site *web.Site, health Health) *mux.Router {
	r := mux.NewRouter()
	// Every matched request: note the route for the log and the metrics;
	// under authorized fetch, refuse hosts we do not federate with.
	r.Use(noteRoute, fed.RefuseBlocked)
	ap := func(req *http.Request, _ *mux.RouteMatch) bool { return federation.WantsActivityPub(req) }

	// Operations: the database answers; the delivery worker runs and how
	// far behind it is.
	r.Handle("/healthz", health.healthz()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/healthz/delivery", health.delivery()).Methods(http.MethodGet, http.MethodHead)

	// Discovery.
	r.Handle("/.well-known/webfinger", fed.WebFinger()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/.well-known/host-meta", fed.HostMeta()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/.well-known/host-meta.json", fed.HostMeta()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/.well-known/nodeinfo", fed.NodeInfoDiscovery()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/nodeinfo/{version}", fed.NodeInfo()).Methods(http.MethodGet, http.MethodHead)

	// The instance actor.
	r.Handle("/actor", fed.InstanceActor()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/actor/outbox", fed.InstanceOutbox()).Methods(http.MethodGet, http.MethodHead)

	// Communities: ActivityPub JSON or HTML, by the Accept header.
	r.Handle("/c/{name}", fed.Group()).Methods(http.MethodGet, http.MethodHead).MatcherFunc(ap)
	r.Handle("/c/{name}", site.Community()).Methods(http.MethodGet, http.MethodHead)
	// The outbox, which peers fetch with the actor, is matched here rather
	// than by the collections route far below: the router tries routes in
	// order, and each costs a regular expression (issue 13's read path).
	r.Handle("/c/{name}/{collection:outbox}", fed.Collection()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/activities/{id}", fed.Activity()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/threads/{id:[0-9]+}", fed.Thread()).Methods(http.MethodGet, http.MethodHead).MatcherFunc(ap)
	r.Handle("/c/{name}/threads/{id:[0-9]+}", site.Thread()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/{kind:resources|events}/{id:[0-9a-f]+}", fed.Object()).Methods(http.MethodGet, http.MethodHead).MatcherFunc(ap)
	r.Handle("/c/{name}/events/{id:[0-9a-f]+}/poll", fed.Object()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/resources/{id:[0-9a-f]+}", site.Resource()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/events/{id:[0-9a-f]+}", site.Meeting()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/meetings.ics", site.Calendar()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/{collection:wiki}", fed.Collection()).Methods(http.MethodGet, http.MethodHead).MatcherFunc(ap)
	r.Handle("/c/{name}/wiki", site.Wiki()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/wiki/{slug}", fed.WikiPage()).Methods(http.MethodGet, http.MethodHead).MatcherFunc(ap)
	r.Handle("/c/{name}/wiki/{slug}", site.WikiPage()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/wiki/{slug}/history", site.WikiHistory()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/wiki/{slug}/diff", site.WikiDiff()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/decisions/{id:[0-9a-f]+}", fed.Decision()).Methods(http.MethodGet, http.MethodHead).MatcherFunc(ap)
	r.Handle("/c/{name}/decisions/{id:[0-9a-f]+}", site.Decision()).Methods(http.MethodGet, http.MethodHead)
	// What members signed in on the site do.
	r.Handle("/c/{name}/wiki/{slug}/edit", site.WikiEdit()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/wiki/{slug}/edit", site.WikiSave()).Methods(http.MethodPost)
	r.Handle("/c/{name}/wiki/{slug}/revert", site.WikiRevert()).Methods(http.MethodPost)
	r.Handle("/c/{name}/decisions/{id:[0-9a-f]+}/vote", site.DecisionVote()).Methods(http.MethodPost)
	r.Handle("/c/{name}/events/{id:[0-9a-f]+}/answer", site.MeetingAnswer()).Methods(http.MethodPost)
	r.Handle("/c/{name}/propose", site.Propose()).Methods(http.MethodGet, http.MethodHead, http.MethodPost)
	r.Handle("/c/{name}/search", site.Search()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/search", site.Search()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/members", site.Member()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/moderation", site.ModerationLog()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/feed.atom", site.Feed()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/follow", site.RemoteFollow()).Methods(http.MethodGet)
	r.Handle("/signin", site.SignInPage()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/signin", site.SignIn()).Methods(http.MethodPost)
	r.Handle("/signin/link", site.SignInLink()).Methods(http.MethodGet) // not HEAD: opening the link uses it
	r.Handle("/signin/oauth/callback", site.OAuthCallback()).Methods(http.MethodGet)
	r.Handle("/signout", site.SignOut()).Methods(http.MethodPost)
	r.Handle("/media/{file}", site.Media()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/c/{name}/{collection}", fed.Collection()).Methods(http.MethodGet, http.MethodHead)

	// Inboxes: the shared one and one per community, the same pipeline.
	r.Handle("/inbox", fed.Inbox()).Methods(http.MethodPost)
	r.Handle("/c/{name}/inbox", fed.Inbox()).Methods(http.MethodPost)

	// The console: every page but the login form needs a signed-in
	// console user; every POST is CSRF-checked.
	con := site.Console()
	r.Handle("/admin", http.RedirectHandler("/admin/", http.StatusMovedPermanently)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/login", con.LoginPage()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/login", con.Login()).Methods(http.MethodPost)
	r.Handle("/admin/logout", con.Logout()).Methods(http.MethodPost)
	r.Handle("/admin/", con.Dashboard()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/communities", con.Communities()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/communities", con.CreateCommunity()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}", con.CommunitySettings()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/communities/{name}", con.SaveCommunity()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/archive", con.ArchiveCommunity()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/icon", con.SaveIcon()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/members", con.Members()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/communities/{name}/members/approve", con.ApproveFollow()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/members/reject", con.RejectFollow()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/members/role", con.SetRole()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/members/ban", con.Ban()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/members/unban", con.Unban()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/moderation", con.Moderation()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/communities/{name}/moderation/resolve", con.ResolveReport()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/moderation/held", con.ReviewHeld()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/resources", con.Resources()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/communities/{name}/resources", con.AddResource()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/resources/state", con.SetResourceState()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/meetings", con.Meetings()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/communities/{name}/meetings", con.CreateMeeting()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/meetings/update", con.UpdateMeeting()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/meetings/cancel", con.CancelMeeting()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/wiki", con.Wiki()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/communities/{name}/wiki", con.SaveWiki()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/wiki/revert", con.RevertWiki()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/wiki/policy", con.SetWikiPolicy()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/decisions", con.Decisions()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/communities/{name}/decisions", con.OpenDecision()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/decisions/close", con.CloseDecision()).Methods(http.MethodPost)
	r.Handle("/admin/communities/{name}/brokers", con.Brokers()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/communities/{name}/brokers/share", con.Share()).Methods(http.MethodPost)
	r.Handle("/admin/federation", con.Federation()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/federation/mode", con.SetFederationMode()).Methods(http.MethodPost)
	r.Handle("/admin/federation/policy", con.SetDomainPolicy()).Methods(http.MethodPost)
	r.Handle("/admin/federation/retry", con.RetryHost()).Methods(http.MethodPost)
	r.Handle("/admin/accounts", con.Accounts()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/admin/accounts", con.CreateAccount()).Methods(http.MethodPost)
	r.Handle("/admin/accounts/steward", con.SetSteward()).Methods(http.MethodPost)
	r.Handle("/admin/accounts/unsteward", con.RemoveSteward()).Methods(http.MethodPost)
	r.Handle("/admin/accounts/delete", con.DeleteAccount()).Methods(http.MethodPost)
	r.Handle("/admin/audit", con.AuditLog()).Methods(http.MethodGet, http.MethodHead)
	// Any other console path, or method, is a 404 to a signed-in user and
	// the login page to anyone else.
	r.Handle("/admin/{path:.*}", con.NotFound())

	// Public pages.
	r.Handle("/", site.Home()).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/static/").Handler(site.Static()).Methods(http.MethodGet, http.MethodHead)
	return r
}
