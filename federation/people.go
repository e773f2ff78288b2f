package federation

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/hostname"
	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams"
)

// RoleChange renders Add or Remove of an actor on the community's
// moderators collection, as Lemmy federates moderator changes.
func (r *Renderer) RoleChange(c storage.Community, actorIRI string, add bool) (storage.OutboxActivity, error) {
	actor, err := url.Parse(actorIRI)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	op := streams.NewActivityStreamsObjectProperty()
	op.AppendIRI(actor)
	target := streams.NewActivityStreamsTargetProperty()
	target.AppendIRI(r.iris.CommunityCollection(c.Name, "moderators"))
	if add {
		a := streams.NewActivityStreamsAdd()
		iri := r.address(a, c, storage.Thread{})
		a.SetActivityStreamsObject(op)
		a.SetActivityStreamsTarget(target)
		return r.finish(a, iri, c)
	}
	a := streams.NewActivityStreamsRemove()
	iri := r.address(a, c, storage.Thread{})
	a.SetActivityStreamsObject(op)
	a.SetActivityStreamsTarget(target)
	return r.finish(a, iri, c)
}

// Block renders Lemmy's community ban, Block{object: actor, target:
// community}, or its Undo.
func (r *Renderer) Block(c storage.Community, actorIRI, reason string, undo bool) (storage.OutboxActivity, error) {
	actor, err := url.Parse(actorIRI)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	b := streams.NewActivityStreamsBlock()
	iri := r.address(b, c, storage.Thread{})
	op := streams.NewActivityStreamsObjectProperty()
	op.AppendIRI(actor)
	b.SetActivityStreamsObject(op)
	target := streams.NewActivityStreamsTargetProperty()
	target.AppendIRI(r.iris.Community(c.Name))
	b.SetActivityStreamsTarget(target)
	if reason != "" {
		sp := streams.NewActivityStreamsSummaryProperty()
		sp.AppendXMLSchemaString(reason)
		b.SetActivityStreamsSummary(sp)
	}
	if !undo {
		return r.finish(b, iri, c)
	}
	u := streams.NewActivityStreamsUndo()
	uiri := r.address(u, c, storage.Thread{})
	uop := streams.NewActivityStreamsObjectProperty()
	uop.AppendActivityStreamsBlock(b)
	u.SetActivityStreamsObject(uop)
	return r.finish(u, uiri, c)
}

// RemovePost renders the community's Delete of a post its moderators
// removed, with the reason as summary (Lemmy's shape).
func (r *Renderer) RemovePost(c storage.Community, th storage.Thread, postIRI, reason string) (storage.OutboxActivity, error) {
	post, err := url.Parse(postIRI)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	d := streams.NewActivityStreamsDelete()
	iri := r.address(d, c, th)
	op := streams.NewActivityStreamsObjectProperty()
	op.AppendIRI(post)
	d.SetActivityStreamsObject(op)
	if reason != "" {
		sp := streams.NewActivityStreamsSummaryProperty()
		sp.AppendXMLSchemaString(reason)
		d.SetActivityStreamsSummary(sp)
	}
	return r.finish(d, iri, c)
}

// flag handles a report (Mastodon's, Lemmy's and Mbin's Flag): it lands in
// the moderation queue of the community whose content it names.
func (h *Handler) flag(ctx context.Context, pathName string, act activity, in community.Incoming) error {
	objects := stringsOf(act.object)
	if len(objects) == 0 || len(objects) > 50 {
		return reject(http.StatusBadRequest, "a Flag names 1 to 50 objects")
	}
	name := pathName
	for _, o := range objects {
		if name != "" {
			break
		}
		if c, err := h.community.PostCommunity(ctx, o); err == nil {
			name = c
			continue
		}
		if u, err := url.Parse(o); err == nil {
			if c, ok := h.iris.CommunityName(u); ok {
				name = c
			}
		}
	}
	if name == "" {
		return h.community.Record(ctx, 0, in) // about nothing we host
	}
	// GRP-17: reports have a budget of their own, before anything is
	// written.
	if ok, wait := h.flagRate.take(in.Actor.IRI, h.now()); !ok {
		return &RejectError{Status: http.StatusTooManyRequests, Reason: "too many reports from this actor, retry later", RetryAfter: wait}
	}
	reason, _ := act.raw["content"].(string)
	if reason == "" {
		reason, _ = act.raw["summary"].(string)
	}
	return h.community.Report(ctx, name, in, objects, reason)
}

// hostAllowed applies the instance's federation policy to the host of
// rawURL, normalized (403 for blocked hosts and their subdomains and, in
// allowlist mode, for non-partners). It returns the host it checked.
func (h *Handler) hostAllowed(ctx context.Context, rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", reject(http.StatusBadRequest, "not a URL")
	}
	host, err := hostname.FromURL(u)
	if err != nil {
		return "", reject(http.StatusBadRequest, "not a valid host")
	}
	ok, err := h.community.HostAllowed(ctx, host)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", reject(http.StatusForbidden, "this instance does not federate with "+host)
	}
	return host, nil
}

// signerAllowed applies the federation policy to the verified signer's
// host (SIG-20) when it is not the key id's, which keyHost passed.
func (h *Handler) signerAllowed(ctx context.Context, signer storage.Actor, keyHost string) error {
	if signer.Host == keyHost {
		return nil
	}
	_, err := h.hostAllowed(ctx, signer.IRI)
	return err
}

// Flag renders the community's forward of a report to its moderators'
// instances: Flag{object: the reported objects, content: the reason}.
func (r *Renderer) Flag(c storage.Community, objects []string, reason string) (storage.OutboxActivity, error) {
	f := streams.NewActivityStreamsFlag()
	iri := r.activityIRI(c.Name)
	id := streams.NewJSONLDIdProperty()
	id.Set(iri)
	f.SetJSONLDId(id)
	ap := streams.NewActivityStreamsActorProperty()
	ap.AppendIRI(r.iris.Community(c.Name))
	f.SetActivityStreamsActor(ap)
	op := streams.NewActivityStreamsObjectProperty()
	for _, o := range objects {
		if u, err := url.Parse(o); err == nil {
			op.AppendIRI(u)
		}
	}
	f.SetActivityStreamsObject(op)
	if reason != "" {
		cp := streams.NewActivityStreamsContentProperty()
		cp.AppendXMLSchemaString(reason)
		f.SetActivityStreamsContent(cp)
	}
	return r.finish(f, iri, c)
}

// updateActor refreshes our copy of an actor from its own Update{Person}
// (a new name, inbox or key): the signer is the actor, so the document is
// theirs; it must still parse as an actor with the same id.
func (h *Handler) updateActor(ctx context.Context, act activity, in community.Incoming) error {
	raw, err := json.Marshal(act.object)
	if err != nil {
		return reject(http.StatusBadRequest, "object is not JSON")
	}
	a, err := ParseActor(ctx, raw)
	if err != nil {
		return reject(http.StatusBadRequest, "actor: "+err.Error())
	}
	if a.IRI != act.actor {
		return reject(http.StatusForbidden, "an actor may only update itself")
	}
	return h.community.ActorUpdated(ctx, in, a)
}
