package federation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/hostname"
	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams"
)

// SignInNote renders the direct message that carries a sign-in link: a
// Create{Note} by the instance actor addressed to one actor alone (to: the
// actor, no public, no followers) and mentioning it, which Mastodon,
// GoToSocial, Akkoma and Misskey show as a direct message. The instance
// actor sends it, not a community: signing in is to the whole site, not to
// one community. Neither the Create nor the Note is served at its id: the
// link must reach its recipient only.
func (r *Renderer) SignInNote(to storage.Actor, handle, link, siteName string, ttl time.Duration) (storage.OutboxActivity, error) {
	recipient, err := url.Parse(to.IRI)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail on Linux
	noteIRI := r.iris.at("/actor/signin/" + hex.EncodeToString(b[:]))
	createIRI := *noteIRI
	createIRI.Path += "/create"
	instance := r.iris.InstanceActor()

	note := streams.NewActivityStreamsNote()
	id := streams.NewJSONLDIdProperty()
	id.Set(noteIRI)
	note.SetJSONLDId(id)
	attr := streams.NewActivityStreamsAttributedToProperty()
	attr.AppendIRI(instance)
	note.SetActivityStreamsAttributedTo(attr)
	toProp := streams.NewActivityStreamsToProperty()
	toProp.AppendIRI(recipient)
	note.SetActivityStreamsTo(toProp)
	mention := streams.NewActivityStreamsMention()
	href := streams.NewActivityStreamsHrefProperty()
	href.Set(recipient)
	mention.SetActivityStreamsHref(href)
	name := streams.NewActivityStreamsNameProperty()
	name.AppendXMLSchemaString(handle)
	mention.SetActivityStreamsName(name)
	tag := streams.NewActivityStreamsTagProperty()
	tag.AppendActivityStreamsMention(mention)
	note.SetActivityStreamsTag(tag)
	minutes := int(ttl / time.Minute)
	user := strings.TrimPrefix(handle, "@")
	user, _, _ = strings.Cut(user, "@")
	content := fmt.Sprintf(`<p><span class="h-card"><a href="%s" class="u-url mention">@<span>%s</span></a></span> `+
		`Here is your link to sign in to %s: <a href="%s">%s</a></p>`+
		`<p>It works once, for %d minutes, in the browser where you asked for it. If you did not ask, ignore this message.</p>`,
		html.EscapeString(to.IRI), html.EscapeString(user), html.EscapeString(siteName),
		html.EscapeString(link), html.EscapeString(link), minutes)
	cp := streams.NewActivityStreamsContentProperty()
	cp.AppendXMLSchemaString(content)
	note.SetActivityStreamsContent(cp)

	create := streams.NewActivityStreamsCreate()
	cid := streams.NewJSONLDIdProperty()
	cid.Set(&createIRI)
	create.SetJSONLDId(cid)
	actor := streams.NewActivityStreamsActorProperty()
	actor.AppendIRI(instance)
	create.SetActivityStreamsActor(actor)
	cto := streams.NewActivityStreamsToProperty()
	cto.AppendIRI(recipient)
	create.SetActivityStreamsTo(cto)
	obj := streams.NewActivityStreamsObjectProperty()
	obj.AppendActivityStreamsNote(note)
	create.SetActivityStreamsObject(obj)
	body, err := Marshal(create)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	return storage.OutboxActivity{IRI: createIRI.String(), Type: "Create", KeyID: r.iris.InstanceKey().String(), Body: body}, nil
}

// Limits of WebFinger lookups made to sign a member in.
const maxWebFingerBytes = 64 << 10

// Resolver finds remote actors by handle for signing in: WebFinger on the
// handle's host through the one guarded client, then the actor fetched,
// signed by the instance actor, through Keys. It implements
// community.Resolver.
type Resolver struct {
	client       *http.Client
	keys         *Keys
	allowPrivate bool
}

// NewResolver returns a Resolver that sends its requests through client
// (the one built by fetch.NewClient) and fetches actors with keys.
// allowPrivate (--insecure-federation) lets it fall back to http:// when
// https:// cannot be reached.
func NewResolver(client *http.Client, keys *Keys, allowPrivate bool) *Resolver {
	return &Resolver{client: client, keys: keys, allowPrivate: allowPrivate}
}

// ResolveHandle finds the actor of user@host. Its handle is user@host when
// host's WebFinger leads to an actor on host, or to an actor on another
// host whose own WebFinger agrees (Mastodon's split domains); otherwise
// the actor is named @preferredUsername@its-own-host, so that no server
// can show its actor under another server's name (FET-11).
func (rv *Resolver) ResolveHandle(ctx context.Context, user, host string) (community.RemoteAccount, error) {
	self, _, err := rv.webFinger(ctx, user, host)
	if err != nil {
		return community.RemoteAccount{}, err
	}
	a, err := rv.keys.ActorByIRI(ctx, self)
	if err != nil {
		return community.RemoteAccount{}, fmt.Errorf("resolve %s@%s: %w", user, host, err)
	}
	switch a.Type {
	case "Person", "Service", "Application", "Organization":
	default:
		return community.RemoteAccount{}, fmt.Errorf("resolve %s@%s: a %s cannot sign in", user, host, truncate(a.Type, 40))
	}
	actorHost := hostname.Of(a.IRI)
	handle := "@" + user + "@" + host
	if actorHost == host {
		return community.RemoteAccount{Actor: a, Handle: handle}, nil
	}
	// Split domain: the actor's own host must vouch for the handle.
	fallback := community.RemoteAccount{Actor: a, Handle: "@" + a.PreferredUsername + "@" + actorHost}
	if a.PreferredUsername == "" {
		return community.RemoteAccount{}, fmt.Errorf("resolve %s@%s: actor %s has no preferredUsername", user, host, truncate(a.IRI, 200))
	}
	back, subject, err := rv.webFinger(ctx, a.PreferredUsername, actorHost)
	if err != nil || back != a.IRI || !strings.EqualFold(subject, "acct:"+user+"@"+host) {
		return fallback, nil
	}
	return community.RemoteAccount{Actor: a, Handle: handle}, nil
}

// webFinger looks up acct:user@host on host and returns the ActivityPub
// self link and the subject.
func (rv *Resolver) webFinger(ctx context.Context, user, host string) (self, subject string, err error) {
	self, subject, err = rv.webFingerAt(ctx, "https", user, host)
	if err != nil && rv.allowPrivate {
		// --insecure-federation: local test servers speak plain http.
		if s2, sub2, err2 := rv.webFingerAt(ctx, "http", user, host); err2 == nil {
			return s2, sub2, nil
		}
	}
	return self, subject, err
}

func (rv *Resolver) webFingerAt(ctx context.Context, scheme, user, host string) (self, subject string, err error) {
	acct := "acct:" + user + "@" + host
	u := &url.URL{Scheme: scheme, Host: host, Path: "/.well-known/webfinger", RawQuery: url.Values{"resource": {acct}}.Encode()}
	fail := func(err error) (string, string, error) { return "", "", fmt.Errorf("webfinger %s: %w", acct, err) }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Accept", "application/jrd+json, application/json")
	res, err := rv.client.Do(req)
	if err != nil {
		return fail(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("status %d", res.StatusCode))
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "application/jrd+json" && mt != "application/json" {
		return fail(fmt.Errorf("content type %q", truncate(mt, 60)))
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxWebFingerBytes+1))
	if err != nil {
		return fail(err)
	}
	if len(body) > maxWebFingerBytes {
		return fail(errors.New("too large"))
	}
	var jrd struct {
		Subject string `json:"subject"`
		Links   []struct {
			Rel  string `json:"rel"`
			Type string `json:"type"`
			Href string `json:"href"`
		} `json:"links"`
	}
	if err := json.Unmarshal(body, &jrd); err != nil {
		return fail(err)
	}
	for _, l := range jrd.Links {
		if l.Rel != "self" {
			continue
		}
		mt, params, _ := mime.ParseMediaType(l.Type)
		if mt == "application/activity+json" || (mt == "application/ld+json" && strings.Contains(params["profile"], "activitystreams")) {
			h, err := url.Parse(l.Href)
			if err != nil || (h.Scheme != "https" && h.Scheme != "http") || h.Host == "" || h.User != nil {
				return fail(fmt.Errorf("self link %q is not an http(s) URL", truncate(l.Href, 200)))
			}
			return h.String(), jrd.Subject, nil
		}
	}
	return fail(errors.New("no ActivityPub self link"))
}
