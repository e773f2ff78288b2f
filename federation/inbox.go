package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// MaxInboxBody is the largest request body an inbox reads (Mastodon's
// MAX_JSON_SIZE too).
const MaxInboxBody = 1 << 20

// bodyReadTimeout is how long an inbox body may take to arrive: 1 MiB
// needs under a second on any link a server federates over.
const bodyReadTimeout = 10 * time.Second

// Inbox handles POST to the shared inbox and to every community inbox. It
// reads top to bottom, one step a line; each step returns a *RejectError
// with the status and reason the peer gets.
func (h *Handler) Inbox() http.Handler {
	return h.serve(func(w http.ResponseWriter, r *http.Request) (err error) {
		start := time.Now()
		var activityType string // known once the body is parsed
		defer func() { h.metrics.Inbox(activityType, inboxOutcome(err), time.Since(start)) }()
		ctx := r.Context()
		release, ok := h.clients.acquire(r.RemoteAddr) // RAT-09: work per client address, slow bodies included
		if !ok {
			return &RejectError{Status: http.StatusServiceUnavailable, Reason: "too many requests from your address in flight, retry later", RetryAfter: 10 * time.Second}
		}
		defer release()
		body, err := readBody(w, r) // 1. limit the body, read before a slot is taken (RAT-07)
		if err != nil {
			return err
		}
		select {
		case h.inflight <- struct{}{}:
			defer func() { <-h.inflight }()
			if h.inbound != nil {
				h.inbound.Begin()
				defer h.inbound.End()
			}
		default:
			return &RejectError{Status: http.StatusServiceUnavailable, Reason: "too many requests in flight, retry later", RetryAfter: 10 * time.Second} // RAT-03
		}
		signed, err := h.parseSignature(r, body) // 2. the signature's shape, digest, date
		if err != nil {
			return err
		}
		keyHost, err := h.hostAllowed(ctx, signed.KeyID()) // SIG-18: before any fetch
		if err != nil {
			return err
		}
		signer, err := h.verifySignature(ctx, signed) // 2. the key, refetched once
		if err != nil {
			return err
		}
		if err := h.signerAllowed(ctx, signer, keyHost); err != nil { // SIG-20: the verified signer's host
			return err
		}
		if err := h.checkRate(signer); err != nil { // GRP-15, RAT-06: before anything is written
			return err
		}
		if err := h.keys.Revive(ctx, signer.Host); err != nil { // FLT-06
			return err
		}
		act, err := decodeActivity(body) // 4. parse, strictly
		if err != nil {
			return err
		}
		activityType = act.typ
		if err := checkSigner(act, signer); err != nil { // 3. key owner = actor
			return err
		}
		if err := checkOrigin(act); err != nil { // 5. origin
			return err
		}
		in := community.Incoming{IRI: act.id.String(), Type: act.typ, Actor: signer, Raw: body}
		if err := h.dispatch(ctx, pathVar(r, "name"), act, in); err != nil { // 6-8
			return err
		}
		w.WriteHeader(http.StatusAccepted)
		return nil
	})
}

// readBody reads at most MaxInboxBody bytes (413 beyond) of an
// ActivityStreams body (415 for other media types).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != mediaAS && mt != "application/ld+json" && mt != mediaJSON) {
		return nil, reject(http.StatusUnsupportedMediaType, "content type must be application/activity+json")
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		return nil, reject(http.StatusUnsupportedMediaType, "compressed bodies are not accepted") // PAR-09
	}
	if r.ContentLength > MaxInboxBody {
		return nil, reject(http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", MaxInboxBody))
	}
	// RAT-07: a body that trickles in (Content-Length: 100000, a byte every
	// 2 s) is cut off after bodyReadTimeout; it holds no inbox slot
	// meanwhile, since the slot is taken only once the body is read.
	if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyReadTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return nil, fmt.Errorf("set read deadline: %w", err)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxInboxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, reject(http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", MaxInboxBody))
	}
	if err != nil {
		return nil, reject(http.StatusBadRequest, "cannot read body")
	}
	return body, nil
}

func (h *Handler) parseSignature(r *http.Request, body []byte) (*signature.Signed, error) {
	s, err := signature.Parse(r, body, signature.Options{Now: h.now, Host: h.iris.Host(), Scheme: h.iris.base.Scheme})
	if err != nil {
		return nil, reject(http.StatusUnauthorized, err.Error())
	}
	return s, nil
}

// verifySignature finds the key's owner and checks the signature; when the
// cached key fails it fetches the key once more, for key rotation.
// A fetched actor is stored only once its key verified the request (SIG-21).
func (h *Handler) verifySignature(ctx context.Context, s *signature.Signed) (storage.Actor, error) {
	a, fetched, err := h.keys.Actor(ctx, s.KeyID(), false)
	if err != nil {
		return storage.Actor{}, err
	}
	if err := h.keys.verifyWith(s.Verify, a); err != nil {
		a, fetched, err = h.keys.Actor(ctx, s.KeyID(), true)
		if err != nil {
			return storage.Actor{}, err
		}
		if err := h.keys.verifyWith(s.Verify, a); err != nil {
			return storage.Actor{}, unverified(err)
		}
	}
	if fetched {
		if err := h.keys.Remember(ctx, a); err != nil {
			return storage.Actor{}, err
		}
	}
	return a, nil
}

// checkRate spends one of the signer's host's and one of the signer's own
// activities: beyond them the peer gets 429 with Retry-After (GRP-15:
// one member posting 100 notes a minute; RAT-06: a host's actors all at
// once).
func (h *Handler) checkRate(signer storage.Actor) error {
	now := h.now()
	if ok, wait := h.hostRate.take(signer.Host, now); !ok {
		return &RejectError{Status: http.StatusTooManyRequests, Reason: "too many activities from this host, retry later", RetryAfter: wait}
	}
	if ok, wait := h.actorRate.take(signer.IRI, now); !ok {
		return &RejectError{Status: http.StatusTooManyRequests, Reason: "too many activities from this actor, retry later", RetryAfter: wait}
	}
	return nil
}

// activity is the shape every incoming activity must have, read from the
// raw JSON before streams sees it: single id, type and actor (PAR-01..03).
type activity struct {
	id     *url.URL
	typ    string
	actor  string
	object any // IRI string, embedded object, or nil
	raw    map[string]any
}

func decodeActivity(body []byte) (activity, error) {
	if err := checkDuplicateKeys(body); err != nil {
		return activity{}, reject(http.StatusBadRequest, err.Error())
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return activity{}, reject(http.StatusBadRequest, "body is not a JSON object")
	}
	if dec.More() {
		return activity{}, reject(http.StatusBadRequest, "trailing data after the JSON object")
	}
	typ, ok := m["type"].(string)
	if !ok || typ == "" {
		return activity{}, reject(http.StatusBadRequest, "type must be one string")
	}
	idStr, ok := m["id"].(string)
	if !ok {
		return activity{}, reject(http.StatusBadRequest, "id must be one string")
	}
	id, err := checkHTTPURL(idStr)
	if err != nil {
		return activity{}, reject(http.StatusBadRequest, "id: "+err.Error())
	}
	actor, ok := singleIRI(m["actor"])
	if !ok {
		return activity{}, reject(http.StatusBadRequest, "not an activity: actor must be one IRI")
	}
	return activity{id: id, typ: typ, actor: actor, object: m["object"], raw: m}, nil
}

// singleIRI reads a property that must hold one IRI: a string, an object
// with an id, or a list of exactly one of those (Prismo sends
// "actor": [{"type": "Person", "id": …}]).
func singleIRI(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, x != ""
	case map[string]any:
		s, ok := x["id"].(string)
		return s, ok && s != ""
	case []any:
		if len(x) == 1 {
			return singleIRI(x[0])
		}
	}
	return "", false
}

// checkDuplicateKeys refuses a top-level object that repeats a key:
// encoding/json keeps the last one and other parsers the first (PAR-01).
// Keys are compared as the strings they stand for ("a" and "\u0061" are
// the same key).
func checkDuplicateKeys(body []byte) error {
	if !json.Valid(body) {
		return errors.New("body is not valid JSON")
	}
	if !utf8.Valid(body) {
		// JSON is UTF-8 (RFC 8259): encoding/json passes other bytes
		// through as U+FFFD, but the raw body is stored as received, and
		// PostgreSQL refuses text that is not UTF-8 (PAR-07).
		return errors.New("body is not valid UTF-8")
	}
	if i := skipSpace(body, 0); body[i] != '{' {
		return errors.New("body is not a JSON object")
	}
	seen := make(map[string]struct{}, 16)
	var err error
	eachMember(body, func(raw []byte, _, _ int) bool {
		k := keyString(raw)
		if _, ok := seen[k]; ok {
			err = fmt.Errorf("key %q appears twice", truncate(k, 40))
			return false
		}
		seen[k] = struct{}{}
		return true
	})
	return err
}

// checkSigner: the key's owner must be the activity's actor (SIG-13).
func checkSigner(act activity, signer storage.Actor) error {
	if act.actor != signer.IRI {
		return reject(http.StatusUnauthorized, fmt.Sprintf("signed by %s but actor is %s", truncate(signer.IRI, 200), truncate(act.actor, 200)))
	}
	return nil
}

// checkOrigin: the activity's id is on the actor's origin (ORI-03).
func checkOrigin(act activity) error {
	actor, err := checkHTTPURL(act.actor)
	if err != nil {
		return reject(http.StatusBadRequest, "actor: "+err.Error())
	}
	if !sameOrigin(act.id, actor) {
		return reject(http.StatusForbidden, "activity id is not on the actor's host")
	}
	return nil
}

// dispatch hands the activity to the community layer, which commits it
// (and the deliveries it causes) in one transaction. pathName is the
// community of a community inbox, "" for the shared inbox.
func (h *Handler) dispatch(ctx context.Context, pathName string, act activity, in community.Incoming) error {
	switch act.typ {
	case "Follow":
		name, err := h.localCommunity(act.object, pathName)
		if err != nil {
			return err
		}
		// Learn what the follower's server runs, so it gets the one
		// Announce shape it shows (at most once a week per host).
		h.keys.LearnSoftware(ctx, act.actor)
		return h.community.Receive(ctx, community.Followed{In: in, Community: name})
	case "Undo":
		if u, ok, err := h.undo(pathName, act, in); ok || err != nil {
			if err != nil {
				return err
			}
			return h.community.Receive(ctx, u)
		}
	case "Create":
		return h.create(ctx, pathName, act, in)
	case "Update":
		if obj, ok := act.object.(map[string]any); ok && obj["id"] == act.actor {
			return h.updateActor(ctx, act, in)
		}
		return h.update(ctx, act, in)
	case "Delete":
		obj, _ := singleIRI(act.object)
		if obj == act.actor {
			// An account deleted on its server (Mastodon sends this to
			// every server that knows it): it leaves every community.
			return h.community.ActorGone(ctx, in)
		}
		if h.isActor(ctx, act.object, obj) {
			return reject(http.StatusForbidden, "an account may delete only itself") // GRP-11
		}
		return h.delete(ctx, act, in)
	case "Like", "Dislike":
		if obj, ok := singleIRI(act.object); ok {
			return h.community.Receive(ctx, community.Voted{In: in, Inbox: pathName, ObjectIRI: obj, Kind: voteKind(act.typ)})
		}
	case "Join", "Leave", "Accept", "TentativeAccept", "Reject":
		if obj, ok := singleIRI(act.object); ok {
			return h.community.Receive(ctx, community.Answered{In: in, Type: act.typ, ObjectIRI: obj})
		}
	case "Flag":
		return h.flag(ctx, pathName, act, in)
	case "Lock":
		// Lemmy's Lock of a post by a moderator of its community.
		if obj, ok := singleIRI(act.object); ok {
			return h.community.Receive(ctx, community.Moderated{In: in, ObjectIRI: obj, Action: community.ActionLock})
		}
	case "Remove", "Block":
		// Lemmy's moderator actions in a group: Remove{a pinned post,
		// target: the group's featured collection} unpins it; Remove{a
		// moderator, target: its moderators} and Block{a member, target:
		// the group} (a ban) are the group's moderators' to send.
		obj, _ := singleIRI(act.object)
		if act.typ == "Remove" && h.featuredTarget(act.raw["target"]) && obj != "" {
			return h.community.Receive(ctx, community.Moderated{In: in, ObjectIRI: obj, Action: community.ActionUnpin})
		}
		if name, ok := h.moderatorsTarget(act.raw["target"]); ok && act.typ == "Remove" {
			return h.community.Receive(ctx, community.GroupAction{In: in, Community: name, Type: act.typ, Collection: "moderators", ObjectIRI: obj})
		}
		if name, ok := h.groupTarget(act.raw["target"]); ok {
			reason, _ := act.raw["summary"].(string)
			return h.community.Receive(ctx, community.GroupAction{In: in, Community: name, Type: act.typ, ObjectIRI: obj, Reason: reason})
		}
	case "Add":
		// Mobilizon proposes a resource with Add{Document, target: the
		// group's resources collection}; Lemmy's moderators pin a post
		// with Add{post, target: the group's featured collection}.
		if name, ok := h.resourcesTarget(act.raw["target"]); ok {
			return h.proposeAdded(ctx, name, act, in)
		}
		if obj, ok := singleIRI(act.object); ok && h.featuredTarget(act.raw["target"]) {
			return h.community.Receive(ctx, community.Moderated{In: in, ObjectIRI: obj, Action: community.ActionPin})
		}
		// Lemmy's moderators appoint one with Add{actor, target: the
		// group's moderators collection}.
		if name, ok := h.moderatorsTarget(act.raw["target"]); ok {
			obj, _ := singleIRI(act.object)
			return h.community.Receive(ctx, community.GroupAction{In: in, Community: name, Type: act.typ, Collection: "moderators", ObjectIRI: obj})
		}
	}
	// Everything else is kept, so nothing a peer sent is lost; later
	// issues give it meaning.
	var communityID int64
	if pathName != "" {
		c, err := h.community.Community(ctx, pathName)
		if err != nil {
			return err
		}
		communityID = c.ID
	}
	return h.community.Record(ctx, communityID, in)
}

// isActor reports whether the object of a Delete is an actor: typed as
// one, or an IRI we know as an actor's.
func (h *Handler) isActor(ctx context.Context, object any, iri string) bool {
	if m, ok := object.(map[string]any); ok {
		if typ, _ := m["type"].(string); isActorType(typ) {
			return true
		}
	}
	if iri == "" {
		return false
	}
	_, err := h.keys.store.ActorByIRI(ctx, iri)
	return err == nil
}

// undo translates an Undo of a Follow, Lock, answer or vote. The undone
// activity must be the signer's own (GRP-12): that is authenticity, which
// federation checks; what undoing means is the community's. ok is false
// for an Undo of anything else, which is only recorded.
func (h *Handler) undo(pathName string, act activity, in community.Incoming) (community.Activity, bool, error) {
	inner, ok := act.object.(map[string]any)
	if !ok {
		return nil, false, nil
	}
	typ, _ := inner["type"].(string)
	who, _ := singleIRI(inner["actor"])
	obj, hasObj := singleIRI(inner["object"])
	switch typ {
	case "Follow", "Lock", "Join", "Accept", "TentativeAccept", "Like", "Dislike", "Block":
	default:
		return nil, false, nil
	}
	if who != act.actor {
		return nil, false, reject(http.StatusForbidden, fmt.Sprintf("cannot undo someone else's %s", typ)) // GRP-12
	}
	switch typ {
	case "Follow":
		name, err := h.localCommunity(inner["object"], pathName)
		if err != nil {
			return nil, false, err
		}
		return community.Followed{In: in, Community: name, Undo: true}, true, nil
	case "Lock":
		if hasObj {
			return community.Moderated{In: in, ObjectIRI: obj, Action: community.ActionUnlock}, true, nil
		}
	case "Join", "Accept", "TentativeAccept":
		if hasObj {
			return community.Answered{In: in, Type: "Undo", ObjectIRI: obj}, true, nil
		}
	case "Like", "Dislike":
		if hasObj {
			return community.Voted{In: in, Inbox: pathName, ObjectIRI: obj}, true, nil
		}
	case "Block":
		// Lemmy's moderator lifting a ban from the group.
		if name, ok := h.groupTarget(inner["target"]); ok && hasObj {
			return community.GroupAction{In: in, Community: name, Type: "Block", ObjectIRI: obj, Undo: true}, true, nil
		}
	}
	return nil, false, nil
}

// localCommunity returns the name of the local community v (an IRI or an
// embedded object) names. A community inbox only takes activities for its
// own community.
func (h *Handler) localCommunity(v any, pathName string) (string, error) {
	s, ok := singleIRI(v)
	if !ok {
		return "", reject(http.StatusBadRequest, "object must be one IRI")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", reject(http.StatusBadRequest, "object is not an IRI")
	}
	name, ok := h.iris.CommunityName(u)
	if !ok {
		return "", reject(http.StatusNotFound, "object is not a community here")
	}
	if pathName != "" && !strings.EqualFold(name, pathName) {
		return "", reject(http.StatusBadRequest, "object is another community than this inbox's")
	}
	return name, nil
}
