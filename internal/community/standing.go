package community

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/coppice-dev/coppice/internal/hostname"
	"github.com/coppice-dev/coppice/storage"
)

// standing is what a community's rules need to know of an actor that acts
// in it: whether it is banned, whether it is a member (an accepted
// follower), and the federation policy of its host.
type standing struct {
	banned bool
	member bool
	policy storage.Policy
}

// standingOf reads the standing of the actor of in within community c,
// inside tx, the transaction that writes what the actor does: the same
// check for posting, editing, voting and answering meetings, so no way in
// forgets one (issue 11: edits, likes and RSVPs of banned actors leaked).
func (s *Service) standingOf(ctx context.Context, tx *storage.Tx, c storage.Community, in Incoming) (standing, error) {
	var st standing
	var err error
	if st.banned, err = tx.IsBanned(ctx, c.ID, in.Actor.IRI); err != nil {
		return st, err
	}
	f, err := tx.Follow(ctx, c.ID, in.Actor.IRI)
	switch {
	case err == nil:
		st.member = f.State == storage.FollowAccepted
	case !errors.Is(err, storage.ErrNotFound):
		return st, err
	}
	if in.Actor.Host != "" {
		if st.policy, err = s.store.DomainPolicy(ctx, in.Actor.Host); err != nil {
			return st, err
		}
	}
	return st, nil
}

// editedActivity is the activity a community announces for a member's
// activity raw: as received, except that for a host under reject_media its
// object loses its media (attachments, image, icon and <img> in content),
// as the stored post did; the announce must not carry what the policy keeps
// off this instance.
func (s *Service) editedActivity(raw []byte, st standing) []byte {
	if st.policy != storage.PolicyRejectMedia {
		return raw
	}
	var act map[string]any
	if err := json.Unmarshal(raw, &act); err != nil {
		return raw
	}
	obj, ok := act["object"].(map[string]any)
	if !ok {
		return raw
	}
	for _, k := range []string{"attachment", "image", "icon"} {
		delete(obj, k)
	}
	if c, ok := obj["content"].(string); ok {
		obj["content"] = imgRE.ReplaceAllString(s.sanitize.HTML(c), "")
	}
	if m, ok := obj["contentMap"].(map[string]any); ok {
		for lang, v := range m {
			if c, ok := v.(string); ok {
				m[lang] = imgRE.ReplaceAllString(s.sanitize.HTML(c), "")
			}
		}
	}
	out, err := json.Marshal(act)
	if err != nil {
		return raw
	}
	return out
}

// SiteStanding is what a community's rules know of a member signed in to
// the site, for the features it uses there (wiki edits, decision votes,
// meeting answers).
type SiteStanding struct {
	Member bool           // an accepted follower of the community
	Role   string         // owner, moderator, broker or member; "" for a non-member
	Policy storage.Policy // the federation policy of the actor's host
}

// SiteMember is the one check every community feature on the site passes
// before it acts for a signed-in actor: an actor banned from community c,
// or whose host the federation policy refuses (blocked, or not a partner
// in allowlist mode), gets ErrForbidden, whatever it asks; otherwise it
// gets its standing, for the finer rules of each feature (members only,
// moderators only). Signing in itself is to the whole site, so a banned
// actor can still sign in; it only cannot use c's features.
func (s *Service) SiteMember(ctx context.Context, c storage.Community, actorIRI string) (SiteStanding, error) {
	host := hostname.Of(actorIRI)
	if host == "" {
		return SiteStanding{}, fmt.Errorf("site member %q: %w", actorIRI, ErrForbidden)
	}
	banned, err := s.store.IsBanned(ctx, c.ID, actorIRI)
	if err != nil {
		return SiteStanding{}, err
	}
	if banned {
		return SiteStanding{}, fmt.Errorf("%s is banned from %s: %w", actorIRI, c.Name, ErrForbidden)
	}
	allowed, err := s.store.HostAllowed(ctx, host)
	if err != nil {
		return SiteStanding{}, err
	}
	if !allowed {
		return SiteStanding{}, fmt.Errorf("the host of %s is refused: %w", actorIRI, ErrForbidden)
	}
	var st SiteStanding
	if st.Policy, err = s.store.DomainPolicy(ctx, host); err != nil {
		return SiteStanding{}, err
	}
	st.Role, err = s.store.Role(ctx, c.ID, actorIRI)
	switch {
	case err == nil:
		st.Member = true
	case !errors.Is(err, storage.ErrNotFound):
		return SiteStanding{}, err
	}
	return st, nil
}
