package federation

import (
	"cmp"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/metrics"
	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams/vocab"
)

// Handler serves the ActivityPub side of an instance. Its methods are the
// HTTP handlers that internal/server routes to.
type Handler struct {
	community *community.Service
	iris      IRIs
	keys      *Keys
	log       *slog.Logger
	version   string
	now       func() time.Time
	inflight  chan struct{} // a slot per inbox request being handled
	clients   *clientSlots  // inbox requests under way per client address (RAT-09)
	actorRate *limiter      // verified activities per actor (GRP-15)
	hostRate  *limiter      // verified activities per signer's host (RAT-06)
	metrics   *metrics.Metrics
	authFetch bool
	flagRate  *limiter // Flags per actor (GRP-17)
	documents *documents
	inbound   Inbound
}

// Options are what a Handler needs besides the community service.
type Options struct {
	IRIs    IRIs
	Keys    *Keys // finds and caches the keys of remote actors
	Log     *slog.Logger
	Version string
	Now     func() time.Time
	// InboxConcurrency bounds the inbox requests handled at once; beyond
	// it peers get 503 with Retry-After (RAT-03). Default 256.
	InboxConcurrency int
	// InboxPerClient bounds the inbox requests under way from one client
	// address, bodies being read included; beyond it the client gets 503
	// with Retry-After (RAT-09). Default 64.
	InboxPerClient int
	// Rate bounds the activities one actor, and one host, may send; beyond
	// it they get 429 with Retry-After (GRP-15, RAT-06). Zero fields take
	// the values of DefaultRate.
	Rate Rate
	// Metrics counts inbox activities; nil counts nothing.
	Metrics *metrics.Metrics
	// AuthorizedFetch requires a valid signature from a host we federate
	// with on every GET of our objects, collections and actors (Mastodon's
	// secure mode), except the discovery documents and the instance actor.
	AuthorizedFetch bool
	// Inbound, when set, is told of every inbox request being handled
	// (Begin, End): the delivery worker's signatures give way to them
	// (delivery.Yield).
	Inbound Inbound
}

// Inbound is told when an inbox request begins and ends.
type Inbound interface {
	Begin()
	End()
}

// Rate is how many verified activities an actor and a host may send at
// once (Burst), and how often one more is allowed after that (Every).
type Rate struct {
	ActorBurst int
	ActorEvery time.Duration
	HostBurst  int
	HostEvery  time.Duration
	// FlagBurst and FlagEvery bound the Flags (reports) of one actor, on
	// top of its activities: Mastodon sends every report of its users
	// from its instance actor, so this is also a budget per instance.
	FlagBurst int
	FlagEvery time.Duration
}

// DefaultInboxPerClient is the default of Options.InboxPerClient: a
// quarter of the default InboxConcurrency, so a large peer sending from
// one address is served, and three addresses cannot take every slot.
const DefaultInboxPerClient = 64

// DefaultRate lets an actor send 20 activities at once and then one every
// 2 seconds (30 a minute), and a host 300 at once and then 10 a second;
// of those, an actor's Flags 5 at once and then one every 2 minutes.
func DefaultRate() Rate {
	return Rate{ActorBurst: 20, ActorEvery: 2 * time.Second, HostBurst: 300, HostEvery: 100 * time.Millisecond,
		FlagBurst: 5, FlagEvery: 2 * time.Minute}
}

// New returns the federation handler of an instance.
func New(svc *community.Service, opt Options) *Handler {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.InboxConcurrency <= 0 {
		opt.InboxConcurrency = 256
	}
	r, def := opt.Rate, DefaultRate()
	r.ActorBurst, r.ActorEvery = cmp.Or(r.ActorBurst, def.ActorBurst), cmp.Or(r.ActorEvery, def.ActorEvery)
	r.HostBurst, r.HostEvery = cmp.Or(r.HostBurst, def.HostBurst), cmp.Or(r.HostEvery, def.HostEvery)
	r.FlagBurst, r.FlagEvery = cmp.Or(r.FlagBurst, def.FlagBurst), cmp.Or(r.FlagEvery, def.FlagEvery)
	return &Handler{community: svc, iris: opt.IRIs, keys: opt.Keys, log: opt.Log, version: opt.Version, now: opt.Now,
		inflight:  make(chan struct{}, opt.InboxConcurrency),
		clients:   newClientSlots(cmp.Or(opt.InboxPerClient, DefaultInboxPerClient)),
		actorRate: newLimiter(r.ActorBurst, r.ActorEvery), hostRate: newLimiter(r.HostBurst, r.HostEvery),
		metrics: opt.Metrics, authFetch: opt.AuthorizedFetch,
		flagRate: newLimiter(r.FlagBurst, r.FlagEvery), documents: newDocuments(opt.Now, maxDocuments), inbound: opt.Inbound}
}

// RejectError is a request we refuse, with the status and a short reason
// that is logged and sent to the peer. Cause, when set, is logged but never
// sent: what our own key fetch found is not the peer's business (SIG-22).
type RejectError struct {
	Status int
	Reason string
	Cause  error
	// RetryAfter, when set, is sent as Retry-After (429, 503).
	RetryAfter time.Duration
}

func (e *RejectError) Error() string {
	if e.Cause != nil {
		return e.Reason + ": " + e.Cause.Error()
	}
	return e.Reason
}

// Unwrap returns the cause.
func (e *RejectError) Unwrap() error { return e.Cause }

func reject(status int, reason string) *RejectError {
	return &RejectError{Status: status, Reason: reason}
}

// handlerFunc is a handler that returns its error to the adapter.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// serve adapts fn: an error becomes a JSON error response and one log line.
func (h *Handler) serve(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		status, msg := errorStatus(err)
		var rej *RejectError
		if errors.As(err, &rej) && rej.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(rej.RetryAfter.Round(time.Second), time.Second)/time.Second)))
		}
		if errors.Is(err, storage.ErrBusy) {
			w.Header().Set("Retry-After", "30")
		}
		if status >= 500 {
			h.log.ErrorContext(r.Context(), "federation request", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		} else if status != http.StatusNotFound {
			h.log.InfoContext(r.Context(), "rejected", "method", r.Method, "path", r.URL.Path, "status", status, "host", r.RemoteAddr, "err", err)
		}
		writeJSON(w, status, "application/json", map[string]string{"error": msg})
	})
}

// errorStatus maps an error of a handler to the status and the short
// message the peer gets.
func errorStatus(err error) (int, string) {
	var rej *RejectError
	var inv *community.InvalidError
	var ref *community.RefusedError
	switch {
	case errors.As(err, &rej):
		return rej.Status, rej.Reason
	case errors.As(err, &ref):
		return http.StatusForbidden, ref.Reason
	case errors.Is(err, storage.ErrBusy):
		// FLT-10/11: the database cannot take the write now (locked past
		// the busy timeout, or the disk is full): the sender retries
		// later; nothing was committed, so nothing is lost.
		return http.StatusServiceUnavailable, "busy, retry later"
	case errors.Is(err, community.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, community.ErrForbidden):
		return http.StatusForbidden, "forbidden"
	case errors.As(err, &inv):
		return http.StatusBadRequest, inv.Error()
	}
	return http.StatusInternalServerError, "internal error"
}

// inboxOutcome names the outcome of an inbox POST for the metrics.
func inboxOutcome(err error) string {
	if err == nil {
		return "accepted"
	}
	switch status, _ := errorStatus(err); {
	case status == http.StatusUnauthorized:
		return "unauthorized"
	case status == http.StatusForbidden:
		return "forbidden"
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests:
		return "deferred" // the peer retries later
	case status >= 500:
		return "error"
	}
	return "rejected"
}

// writeJSON writes v as JSON with the given status and content type.
func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b) // the peer went away; nothing to do
}

// writeAS writes an ActivityStreams document with the media type the
// request asked for.
func writeAS(w http.ResponseWriter, r *http.Request, t vocab.Type) error {
	m, err := serialize(t)
	if err != nil {
		return err
	}
	w.Header().Set("Vary", "Accept")
	writeJSON(w, http.StatusOK, responseMediaType(r), m)
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }
