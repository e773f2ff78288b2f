package community_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

func TestParseHandle(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want string // "" for an error
	}{
		{"@alice@example.social", "alice@example.social"},
		{"alice@Example.Social.", "alice@example.social"},
		{"acct:Alice@example.social:8443", "alice@example.social:8443"},
		{" @alice@example.social ", "alice@example.social"},
		{"alice", ""},
		{"@alice", ""},
		{"https://example.social/@alice", ""},
		{"@al/ice@example.social", ""},
		{"@alice@exa mple.social", ""},
		{"@alice@example.social/path", ""},
		{"@@example.social", ""},
	} {
		h, err := community.ParseHandle(tt.in)
		var inv *community.InvalidError
		switch {
		case tt.want == "" && !errors.As(err, &inv):
			t.Errorf("ParseHandle(%q) = %v, %v; want an InvalidError", tt.in, h, err)
		case tt.want != "" && (err != nil || h.String() != tt.want):
			t.Errorf("ParseHandle(%q) = %q, %v; want %q", tt.in, h.String(), err, tt.want)
		}
	}
}

// TestSiteMemberRefusesBannedActorsAndBlockedHosts: the one check of the
// community features members use on the site.
func TestSiteMemberRefusesBannedActorsAndBlockedHosts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := newService(t)
	c := storagetest.Community(t, st, "seeds")
	member := "https://a.example/users/member"
	banned := "https://a.example/users/banned"
	blocked := "https://blocked.example/users/x"
	stranger := "https://a.example/users/stranger"
	now := time.Now()
	for _, iri := range []string{member, banned, blocked} {
		a := storage.Actor{IRI: iri, Type: "Person", Host: storage.HostOf(iri), Inbox: iri + "/inbox", FetchedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := st.UpsertActor(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		for _, iri := range []string{member, banned, blocked} {
			f := storage.Follow{CommunityID: c.ID, ActorIRI: iri, FollowIRI: iri + "/follow", State: storage.FollowAccepted, CreatedAt: now}
			if _, err := tx.UpsertFollow(ctx, f); err != nil {
				return err
			}
		}
		return tx.Ban(ctx, c.ID, banned, "spam", "test", now)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetDomainPolicy(ctx, "blocked.example", "block", now); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, actorIRI string
		forbidden      bool
		member         bool
	}{
		{"a member", member, false, true},
		{"a banned member", banned, true, false},
		{"an actor of a blocked host", blocked, true, false},
		{"a stranger", stranger, false, false},
		{"no actor", "", true, false},
	} {
		st, err := svc.SiteMember(ctx, c, tt.actorIRI)
		if tt.forbidden != errors.Is(err, community.ErrForbidden) || (!tt.forbidden && err != nil) {
			t.Errorf("SiteMember(%s) error = %v, want forbidden %v", tt.name, err, tt.forbidden)
		}
		if st.Member != tt.member {
			t.Errorf("SiteMember(%s).Member = %v, want %v", tt.name, st.Member, tt.member)
		}
	}
}
