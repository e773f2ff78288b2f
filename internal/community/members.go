package community

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/coppice-dev/coppice/internal/hostname"
	"github.com/coppice-dev/coppice/storage"
)

// IsRole reports whether role is owner, moderator, broker or member.
func IsRole(role string) bool {
	switch role {
	case storage.RoleOwner, storage.RoleModerator, storage.RoleBroker, storage.RoleMember:
		return true
	}
	return false
}

func isModRole(role string) bool { return role == storage.RoleOwner || role == storage.RoleModerator }

// IsModerator reports whether actorIRI moderates community c (owners
// included).
func (s *Service) IsModerator(ctx context.Context, c storage.Community, actorIRI string) (bool, error) {
	role, err := s.store.Role(ctx, c.ID, actorIRI)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return isModRole(role), err
}

// SetRole gives a member a role, as principal p (a moderator: console
// steward, operator, remote moderator). Becoming or ceasing to be a
// moderator is federated as Add or Remove on the moderators collection
// (Lemmy's shape). The check and the audit row are in the same
// transaction as the change.
func (s *Service) SetRole(ctx context.Context, p Principal, communityName, actorIRI, role string) error {
	if !IsRole(role) {
		return &InvalidError{Fields: map[string]string{"role": "must be owner, moderator, broker or member"}}
	}
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *storage.Tx) error {
		return s.setRole(ctx, tx, c, p, actorIRI, role)
	})
}

// setRole is SetRole in tx.
func (s *Service) setRole(ctx context.Context, tx *storage.Tx, c storage.Community, p Principal, actorIRI, role string) error {
	old, err := tx.Role(ctx, c.ID, actorIRI)
	if errors.Is(err, storage.ErrNotFound) {
		return refused("%s is not a member of %s: they must follow it first", actorIRI, c.Name)
	}
	if err != nil {
		return err
	}
	if old == role {
		return nil
	}
	if err := s.mustModerate(ctx, tx, c, p); err != nil {
		return err
	}
	if err := tx.SetRole(ctx, c.ID, actorIRI, role); err != nil {
		return err
	}
	if err := tx.LogModeration(ctx, c.ID, storage.LogEntry{By: p.auditName(), Action: "role " + role, Target: actorIRI, At: s.now()}); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, c, p, "member role", actorIRI, role); err != nil {
		return err
	}
	if isModRole(old) == isModRole(role) {
		return nil
	}
	a, err := s.render.RoleChange(c, actorIRI, isModRole(role))
	if err != nil {
		return err
	}
	a.Listed = true
	return s.deliver(ctx, tx, c, a, toFollowers)
}

// mustModerate refuses a principal who may not moderate community c.
func (s *Service) mustModerate(ctx context.Context, tx *storage.Tx, c storage.Community, p Principal) error {
	ok, err := s.may(ctx, tx, c, p, CanModerate)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: only moderators of %s may do that", ErrForbidden, c.Name)
	}
	return nil
}

// Ban bans an actor from a community, as principal p (a moderator):
// their follow ends, their later Follows are rejected and their posts
// refused. The ban is federated as Lemmy's Block{actor, target:
// community}.
func (s *Service) Ban(ctx context.Context, p Principal, communityName, actorIRI, reason string) error {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *storage.Tx) error {
		if err := s.mustModerate(ctx, tx, c, p); err != nil {
			return err
		}
		return s.ban(ctx, tx, c, p, actorIRI, reason)
	})
}

func (s *Service) ban(ctx context.Context, tx *storage.Tx, c storage.Community, p Principal, actorIRI, reason string) error {
	if err := tx.Ban(ctx, c.ID, actorIRI, reason, p.auditName(), s.now()); err != nil {
		return err
	}
	if _, err := tx.DeleteFollow(ctx, c.ID, actorIRI); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if err := tx.LogModeration(ctx, c.ID, storage.LogEntry{By: p.auditName(), Action: "ban", Target: actorIRI, Reason: reason, At: s.now()}); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, c, p, "member ban", actorIRI, reason); err != nil {
		return err
	}
	a, err := s.render.Block(c, actorIRI, reason, false)
	if err != nil {
		return err
	}
	a.Listed = true
	aud := toFollowers
	// The banned actor learns it too.
	if actor, err := s.store.ActorByIRI(ctx, actorIRI); err == nil {
		aud.Inboxes = []string{actor.Inbox}
	}
	return s.deliver(ctx, tx, c, a, aud)
}

// Unban lifts a ban and federates Undo{Block}.
func (s *Service) Unban(ctx context.Context, p Principal, communityName, actorIRI string) error {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *storage.Tx) error {
		if err := s.mustModerate(ctx, tx, c, p); err != nil {
			return err
		}
		return s.unban(ctx, tx, c, p, actorIRI)
	})
}

// unban is Unban in a transaction under way, its principal checked.
func (s *Service) unban(ctx context.Context, tx *storage.Tx, c storage.Community, p Principal, actorIRI string) error {
	was, err := tx.Unban(ctx, c.ID, actorIRI)
	if err != nil || !was {
		return err
	}
	if err := tx.LogModeration(ctx, c.ID, storage.LogEntry{By: p.auditName(), Action: "unban", Target: actorIRI, At: s.now()}); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, c, p, "member unban", actorIRI, ""); err != nil {
		return err
	}
	a, err := s.render.Block(c, actorIRI, "", true)
	if err != nil {
		return err
	}
	a.Listed = true
	return s.deliver(ctx, tx, c, a, toFollowers)
}

// Members lists a community's members with their roles.
func (s *Service) Members(ctx context.Context, c storage.Community, offset, limit int) (int, []storage.Member, error) {
	total, err := s.store.CountFollows(ctx, c.ID, storage.FollowAccepted)
	if err != nil || limit == 0 {
		return total, nil, err
	}
	ms, err := s.store.Members(ctx, c.ID, offset, limit)
	return total, ms, err
}

// Moderators lists the IRIs of a community's owners and moderators.
func (s *Service) Moderators(ctx context.Context, c storage.Community) ([]string, error) {
	return s.store.Moderators(ctx, c.ID)
}

// Report records a Flag about content of a community in its moderation
// queue, unless the reporter's open reports name all its objects already.
func (s *Service) Report(ctx context.Context, communityName string, in Incoming, objects []string, reason string) error {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return err
	}
	mods, err := s.store.Moderators(ctx, c.ID)
	if err != nil {
		return err
	}
	inboxes := map[string]bool{}
	for _, m := range mods {
		if a, err := s.store.ActorByIRI(ctx, m); err == nil && a.Host != in.Actor.Host {
			inboxes[a.DeliveryInbox()] = true
		}
	}
	reason = s.sanitize.Text(reason, MaxSummary)
	return s.inTx(ctx, func(tx *storage.Tx) error {
		fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(in, c.ID))
		if err != nil || !fresh {
			return err
		}
		// GRP-17: one open report per reporter and object; a Flag naming
		// only what the reporter reported already is recorded, not queued
		// or forwarded again.
		if dup, err := tx.HasOpenReport(ctx, c.ID, in.Actor.IRI, objects); err != nil || dup {
			return err
		}
		if _, err := tx.CreateReport(ctx, storage.Report{CommunityID: c.ID, IRI: in.IRI, ReporterIRI: in.Actor.IRI, Objects: objects,
			Reason: reason, CreatedAt: s.now()}); err != nil {
			return err
		}
		if len(inboxes) == 0 {
			return nil
		}
		// The community's moderators live on other servers: forward the
		// report to their instances, from the community.
		a, err := s.render.Flag(c, objects, reason)
		if err != nil {
			return err
		}
		var aud Audience
		for inbox := range inboxes {
			aud.Inboxes = append(aud.Inboxes, inbox)
		}
		slices.Sort(aud.Inboxes)
		return s.deliver(ctx, tx, c, a, aud)
	})
}

// Report resolutions.
const (
	ResolveDismiss = "dismiss"
	ResolveRemove  = "remove"
	ResolveBan     = "ban"
)

// ResolveReport closes a report as principal p (a moderator): dismiss it,
// remove the reported posts (each announced as a Delete), or ban their
// authors as well; all in one transaction with the audit row.
func (s *Service) ResolveReport(ctx context.Context, p Principal, id int64, resolution string) (storage.Report, error) {
	switch resolution {
	case ResolveDismiss, ResolveRemove, ResolveBan:
	default:
		return storage.Report{}, &InvalidError{Fields: map[string]string{"resolution": "must be dismiss, remove or ban"}}
	}
	r, err := s.store.ReportByID(ctx, id)
	if err != nil {
		return storage.Report{}, err
	}
	if r.State != "open" {
		return r, refused("report %d is %s already", id, r.State)
	}
	c, err := s.communityByID(ctx, r.CommunityID)
	if err != nil {
		return storage.Report{}, err
	}
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		if err := s.mustModerate(ctx, tx, c, p); err != nil {
			return err
		}
		var authors []string
		if resolution != ResolveDismiss {
			for _, iri := range r.Objects {
				post, err := tx.PostByIRI(ctx, iri)
				if err != nil || post.CommunityID != c.ID {
					continue
				}
				if err := s.removePost(ctx, tx, c, post, p.auditName(), "report "+r.IRI); err != nil {
					return err
				}
				if !slices.Contains(authors, post.AuthorIRI) {
					authors = append(authors, post.AuthorIRI)
				}
			}
		}
		if resolution == ResolveBan {
			for _, a := range authors {
				if err := s.ban(ctx, tx, c, p, a, "report "+r.IRI); err != nil {
					return err
				}
			}
		}
		state := "resolved"
		if resolution == ResolveDismiss {
			state = "dismissed"
		}
		if err := tx.ResolveReport(ctx, r.ID, state, resolution, p.auditName(), s.now()); err != nil {
			return err
		}
		if err := tx.LogModeration(ctx, c.ID, storage.LogEntry{By: p.auditName(), Action: "report " + resolution, Target: r.IRI, At: s.now()}); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, p, "report "+resolution, r.IRI, "")
	})
	if err != nil {
		return storage.Report{}, err
	}
	return s.store.ReportByID(ctx, id)
}

// Reports lists a community's open reports.
func (s *Service) Reports(ctx context.Context, communityName string) ([]storage.Report, error) {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return nil, err
	}
	return s.store.Reports(ctx, c.ID, "open")
}

// RemovePost removes a post as a moderator: it becomes a tombstone and the
// community announces the Delete. A removed thread starter removes the
// thread.
func (s *Service) RemovePost(ctx context.Context, iri, by, reason string) error {
	p, err := s.store.PostByIRI(ctx, iri)
	if err != nil {
		return err
	}
	c, err := s.communityByID(ctx, p.CommunityID)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *storage.Tx) error {
		return s.removePost(ctx, tx, c, p, by, reason)
	})
}

func (s *Service) removePost(ctx context.Context, tx *storage.Tx, c storage.Community, p storage.Post, by, reason string) error {
	live, err := tx.DeletePost(ctx, p.ID, s.now())
	if err != nil || !live {
		return err
	}
	if err := tx.UnindexDocument(ctx, storage.SearchPost, p.ID); err != nil {
		return err
	}
	th, err := tx.ThreadByID(ctx, p.ThreadID)
	if err != nil {
		return err
	}
	if err := tx.LogModeration(ctx, c.ID, storage.LogEntry{By: by, Action: "remove post", Target: p.IRI, Reason: reason, At: s.now()}); err != nil {
		return err
	}
	if err := s.withdraw(ctx, tx, c, th, p.IRI, 0); err != nil {
		return err
	}
	a, err := s.render.RemovePost(c, th, p.IRI, reason)
	if err != nil {
		return err
	}
	a.Listed = true
	return s.deliver(ctx, tx, c, a, toFollowers)
}

// ModerationLog returns a community's moderation log, newest first.
func (s *Service) ModerationLog(ctx context.Context, c storage.Community) ([]storage.LogEntry, error) {
	return s.store.ModerationLog(ctx, c.ID, 200)
}

// TopContributors returns a community's most active members of the last
// 90 days.
func (s *Service) TopContributors(ctx context.Context, c storage.Community, limit int) ([]storage.Contributor, error) {
	return s.store.TopContributors(ctx, c.ID, s.now().Add(-90*24*time.Hour), limit)
}

// Contributions returns an actor's ledger across the instance's communities.
func (s *Service) Contributions(ctx context.Context, actorIRI string) ([]storage.Contributor, error) {
	return s.store.ActorContributions(ctx, actorIRI)
}

// Federation policy.

// SetDomainPolicy blocks, silences, allows (a partner) or clears ("") a
// host, its every port (unless one is given) and its subdomains. The host
// is stored normalized (internal/hostname), the one spelling every check
// compares.
func (s *Service) SetDomainPolicy(ctx context.Context, host string, policy storage.Policy) error {
	if !policy.Valid() {
		return &InvalidError{Fields: map[string]string{"policy": "must be block, silence, reject_media, allow or none"}}
	}
	h, err := hostname.Parse(host)
	if err != nil {
		return &InvalidError{Fields: map[string]string{"host": "must be a host name or IP address, with an optional port"}}
	}
	return s.store.SetDomainPolicy(ctx, h, policy, s.now())
}

// SetFederationMode sets open or allowlist mode.
func (s *Service) SetFederationMode(ctx context.Context, mode string) error {
	if mode != storage.ModeOpen && mode != storage.ModeAllowlist {
		return &InvalidError{Fields: map[string]string{"mode": "must be open or allowlist"}}
	}
	return s.store.SetSetting(ctx, "federation_mode", mode)
}

// FederationPolicy returns the mode and the host policies.
func (s *Service) FederationPolicy(ctx context.Context) (string, map[string]storage.Policy, error) {
	mode, err := s.store.Setting(ctx, "federation_mode", storage.ModeOpen)
	if err != nil {
		return "", nil, err
	}
	ps, err := s.store.DomainPolicies(ctx)
	return mode, ps, err
}

// HostAllowed reports whether the instance federates with host.
func (s *Service) HostAllowed(ctx context.Context, host string) (bool, error) {
	return s.store.HostAllowed(ctx, host)
}

// Role returns the role of a member of c, or "" for a non-member.
func (s *Service) Role(ctx context.Context, c storage.Community, actorIRI string) (string, error) {
	role, err := s.store.Role(ctx, c.ID, actorIRI)
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil
	}
	return role, err
}

// KnownActor returns what we know of an actor, or ErrNotFound.
func (s *Service) KnownActor(ctx context.Context, iri string) (storage.Actor, error) {
	return s.store.ActorByIRI(ctx, iri)
}

// KnownActors returns what we know of several actors, by IRI.
func (s *Service) KnownActors(ctx context.Context, iris []string) (map[string]storage.Actor, error) {
	return s.store.ActorsByIRI(ctx, iris)
}

// ActorUpdated stores an actor's new profile from its own Update. Its key
// stays as it was: a key is replaced only by fetching the key id itself,
// never by a document the actor pushes (SIG-20: an Update{Person} naming
// another actor's key id took that key id over).
func (s *Service) ActorUpdated(ctx context.Context, in Incoming, a storage.Actor) error {
	fresh, err := s.recordOnce(ctx, in)
	if err != nil || !fresh {
		return err
	}
	a.KeyID, a.PublicKeyPEM = "", ""
	a.FetchedAt, a.ExpiresAt = s.now(), s.now().Add(24*time.Hour)
	return s.store.UpsertActor(ctx, a)
}

// ActorGone handles the Delete of an account by itself: its follows and
// roles end in every community. Its posts stay until moderators remove them.
func (s *Service) ActorGone(ctx context.Context, in Incoming) error {
	cs, err := s.store.Communities(ctx)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *storage.Tx) error {
		fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(in, 0))
		if err != nil || !fresh {
			return err
		}
		for _, c := range cs {
			if _, err := tx.DeleteFollow(ctx, c.ID, in.Actor.IRI); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		return nil
	})
}

// recordOnce records an incoming activity in its own transaction and
// reports whether it is new.
func (s *Service) recordOnce(ctx context.Context, in Incoming) (bool, error) {
	var fresh bool
	err := s.store.InTx(ctx, func(tx *storage.Tx) error {
		var err error
		fresh, err = tx.RecordInboxActivity(ctx, s.inboxRow(in, 0))
		return err
	})
	return fresh, err
}
