package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// Filled describes what FillEveryTable wrote, for tests to look up.
type Filled struct {
	Community storage.Community // "commons", with threads, a wiki and more
	Other     storage.Community // "orchard", a second community
	PostIRI   string            // the root post of commons' first thread
	Actor     string            // the IRI of a remote member of commons
	At        time.Time         // when everything happened
}

// FillEveryTable writes a few rows into every table of st, and search
// documents of each kind, through the storage API: a small but varied
// instance for tests that copy or back up whole databases. A new table
// needs a row here (the copy tests check that none is empty).
func FillEveryTable(t testing.TB, st *storage.Store) Filled {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("fill every table: %s: %v", what, err)
		}
	}
	inTx := func(what string, fn func(tx *storage.Tx) error) {
		t.Helper()
		must(what, st.InTx(ctx, fn))
	}
	c := Community(t, st, "commons")
	other := Community(t, st, "orchard")
	priv, pub := KeyPair(t)
	_, err := st.EnsureInstance(ctx, storage.Instance{PrivateKeyPEM: priv, PublicKeyPEM: pub, CreatedAt: at})
	must("instance", err)

	// Remote actors following, one host with a shared inbox.
	var actors []string
	for i, host := range []string{"mastodon.example", "lemmy.example", "gts.example"} {
		iri := fmt.Sprintf("https://%s/users/u%d", host, i)
		a := storage.Actor{IRI: iri, Type: "Person", Host: host, PreferredUsername: fmt.Sprintf("u%d", i), Name: "Ünïcode “name”",
			Inbox: iri + "/inbox", KeyID: iri + "#main-key", PublicKeyPEM: pub, Raw: []byte(`{"type":"Person"}`), FetchedAt: at, ExpiresAt: at.Add(time.Hour)}
		if i == 0 {
			a.SharedInbox = "https://" + host + "/inbox"
		}
		must("actor", st.UpsertActor(ctx, a))
		actors = append(actors, iri)
		inTx("follow", func(tx *storage.Tx) error {
			state := storage.FollowAccepted
			if i == 2 {
				state = storage.FollowPending
			}
			_, err := tx.UpsertFollow(ctx, storage.Follow{CommunityID: c.ID, ActorIRI: iri, FollowIRI: iri + "/follows/1", State: state, CreatedAt: at, UpdatedAt: at})
			if err == nil && i == 1 {
				err = tx.SetRole(ctx, c.ID, iri, storage.RoleModerator)
			}
			return err
		})
	}

	// Discussions: threads, posts, votes, contributions, search rows.
	var postIRI, firstActivity string
	for n, title := range []string{"Grafting apples", "Gréffage des poiriers"} {
		inTx("thread", func(tx *storage.Tx) error {
			th, err := tx.CreateThread(ctx, storage.Thread{CommunityID: c.ID, RootIRI: fmt.Sprintf("%s/notes/%d", actors[0], n), Title: title,
				AuthorIRI: actors[0], CreatedAt: at, LastActivityAt: at, Pinned: n == 0})
			if err != nil {
				return err
			}
			for i := 0; i < 3; i++ {
				p, err := tx.CreatePost(ctx, storage.Post{IRI: fmt.Sprintf("%s/notes/%d-%d", actors[i], n, i), ThreadID: th.ID, CommunityID: c.ID,
					Type: "Note", AuthorIRI: actors[i], Name: title, Content: fmt.Sprintf("<p>whip and tongue %d, œuvre</p>", i),
					Published: at.Add(time.Duration(i) * time.Minute), Raw: []byte(`{"type":"Note","content":"x"}`)})
				if err != nil {
					return err
				}
				if n == 0 && i == 0 {
					postIRI = p.IRI
				}
				if err := tx.IndexDocument(ctx, storage.SearchPost, p.ID, c.ID, title, p.Content); err != nil {
					return err
				}
				if err := tx.SetVote(ctx, p.ID, actors[(i+1)%3], "like", p.IRI+"/likes/1", at); err != nil {
					return err
				}
				if err := tx.RecordContribution(ctx, c.ID, actors[i], storage.ContribReply, p.IRI, at); err != nil {
					return err
				}
			}
			if n == 0 {
				firstActivity = th.RootIRI + "/activity"
			}
			_, err = tx.RecordInboxActivity(ctx, storage.InboxActivity{IRI: th.RootIRI + "/activity", Type: "Create", ActorIRI: actors[0],
				CommunityID: c.ID, Raw: []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"` + th.RootIRI + `/activity","type":"Create"}`), ReceivedAt: at})
			return err
		})
	}

	// Outbox and deliveries: one delivered, one to retry, one given up,
	// two still queued.
	inTx("outbox", func(tx *storage.Tx) error {
		id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: "https://coppice.test/c/commons/activities/1", CommunityID: c.ID,
			Type: "Announce", KeyID: "https://coppice.test/c/commons#main-key", Body: []byte(`{"@context":["https://www.w3.org/ns/activitystreams",{"toot":"http://joinmastodon.org/ns#"}],"type":"Announce"}`), Listed: true,
			CreatedAt: at, ObjectIRI: postIRI, Boost: true})
		if err != nil {
			return err
		}
		for i := 0; i < 5; i++ {
			if err := tx.EnqueueDelivery(ctx, id, fmt.Sprintf("https://host%d.example/inbox", i), at); err != nil {
				return err
			}
		}
		return nil
	})
	ds, err := st.ClaimDeliveries(ctx, at, time.Minute, 10, 3)
	must("claim deliveries", err)
	if len(ds) != 3 {
		t.Fatalf("fill every table: claimed %d deliveries, want 3", len(ds))
	}
	must("outcomes", st.RecordOutcomes(ctx, []storage.Outcome{
		{ID: ds[0].ID, Done: true, Kind: storage.OutcomeDelivered, At: at},
		{ID: ds[1].ID, NextAttemptAt: at.Add(time.Minute), Error: "503", Kind: storage.OutcomeRetried, At: at},
		{ID: ds[2].ID, Failed: true, Error: "410", Kind: storage.OutcomeFailed, At: at},
	}))
	must("host results", st.RecordHostResults(ctx, []storage.HostResult{{Host: "host1.example", At: at, Error: "503", GiveUp: time.Hour, MaxFail: 5}}))
	// A second activity for the followers, not expanded yet: no claim
	// follows it here.
	inTx("fan-out", func(tx *storage.Tx) error {
		// An Announce{activity}: it refers to the raw log's row of the
		// activity it embeds (storage/embed.go).
		id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: "https://coppice.test/c/commons/activities/2", CommunityID: c.ID,
			Type: "Announce", KeyID: "https://coppice.test/c/commons#main-key", Listed: true, CreatedAt: at, ObjectIRI: postIRI, Embeds: firstActivity,
			Body: []byte(`{"@context":["https://www.w3.org/ns/activitystreams",{"toot":"http://joinmastodon.org/ns#"}],"object":{"id":"` + firstActivity + `","type":"Create"},"type":"Announce"}`)})
		if err != nil {
			return err
		}
		queued, err := tx.QueueFanOut(ctx, id, c.ID, storage.FamilyUnknown, at)
		if err == nil && !queued {
			err = fmt.Errorf("no fan-out queued for a community with followers")
		}
		return err
	})
	must("queue depth", st.SampleQueueDepth(ctx, at))
	must("host software", st.SetHostSoftware(ctx, "mastodon.example", "mastodon", storage.FamilyMicroblog, at))

	// Repertoire, meetings, wiki, decisions.
	inTx("repertoire", func(tx *storage.Tx) error {
		r, err := tx.CreateResource(ctx, storage.Resource{CommunityID: c.ID, IRI: "https://coppice.test/c/commons/resources/1", Kind: "method",
			Title: "Cleft grafting", Description: "A method for thick rootstock", Tags: "grafting method", State: storage.ResourcePublished,
			AuthorIRI: actors[1], CreatedAt: at, UpdatedAt: at, PublishedAt: at})
		if err != nil {
			return err
		}
		if err := tx.IndexDocument(ctx, storage.SearchResource, r.ID, c.ID, r.Title, r.Description); err != nil {
			return err
		}
		m, err := tx.CreateMeeting(ctx, storage.Meeting{CommunityID: c.ID, IRI: "https://coppice.test/c/commons/events/1",
			PollIRI: "https://coppice.test/c/commons/events/1/poll", Title: "Grafting day", Start: at.Add(48 * time.Hour),
			End: at.Add(50 * time.Hour), TimeZone: "Europe/Rome", Place: "Orchard", Status: "confirmed", CreatedAt: at, UpdatedAt: at})
		if err != nil {
			return err
		}
		if _, err := tx.SetRSVP(ctx, m.ID, actors[0], "going", actors[0]+"/accept/1", at); err != nil {
			return err
		}
		p, err := tx.SaveWikiRevision(ctx, storage.WikiPage{CommunityID: c.ID, Slug: "rootstocks", IRI: "https://coppice.test/c/commons/wiki/rootstocks",
			Title: "Rootstocks", CreatedAt: at, UpdatedAt: at}, 0, storage.WikiRevision{Title: "Rootstocks", Body: "M9 dwarfs.",
			HTML: "<p>M9 dwarfs.</p>", Author: "cli:test", CreatedAt: at})
		if err != nil {
			return err
		}
		if _, err := tx.SaveWikiRevision(ctx, p, p.Revision, storage.WikiRevision{Title: "Rootstocks", Body: "M9 and M26 dwarf.",
			HTML: "<p>M9 and M26 dwarf.</p>", Summary: "M26", Author: actors[0], CreatedAt: at.Add(time.Hour)}); err != nil {
			return err
		}
		if err := tx.IndexDocument(ctx, storage.SearchWiki, p.ID, c.ID, "Rootstocks", "M9 and M26 dwarf."); err != nil {
			return err
		}
		d, err := tx.CreateDecision(ctx, storage.Decision{CommunityID: c.ID, IRI: "https://coppice.test/c/commons/decisions/1",
			Question: "Which day?", Options: []string{"Saturday", "Sunday"}, ClosesAt: at.Add(72 * time.Hour), TimeZone: "UTC",
			CreatedBy: "cli:test", CreatedAt: at})
		if err != nil {
			return err
		}
		_, err = tx.SetDecisionVotes(ctx, d.ID, actors[1], []int{1}, actors[1]+"/votes/1", at)
		return err
	})

	// Moderation and brokering.
	inTx("moderation", func(tx *storage.Tx) error {
		if err := tx.Ban(ctx, c.ID, "https://spam.example/users/x", "spam", actors[1], at); err != nil {
			return err
		}
		if err := tx.LogModeration(ctx, c.ID, storage.LogEntry{By: actors[1], Action: "ban", Target: "https://spam.example/users/x", Reason: "spam", At: at}); err != nil {
			return err
		}
		if _, err := tx.CreateReport(ctx, storage.Report{CommunityID: c.ID, IRI: "https://lemmy.example/flags/1", ReporterIRI: actors[1],
			Objects: []string{postIRI}, Reason: "off topic", CreatedAt: at}); err != nil {
			return err
		}
		if _, err := tx.HoldPost(ctx, storage.HeldPost{CommunityID: c.ID, ActivityIRI: "https://lemmy.example/activities/create/9",
			NoteIRI: "https://lemmy.example/post/9", ActorIRI: actors[1], Submission: []byte(`{"note":{"IRI":"https://lemmy.example/post/9"}}`), ReceivedAt: at}); err != nil {
			return err
		}
		if err := tx.UpsertRelated(ctx, storage.Related{CommunityID: c.ID, RemoteIRI: "https://coppice.test/c/orchard",
			FollowIRI: "https://coppice.test/c/commons/follows/1", State: "accepted", CreatedAt: at, UpdatedAt: at}); err != nil {
			return err
		}
		return tx.CreateShare(ctx, storage.Share{CommunityID: other.ID, ObjectIRI: postIRI, SourceIRI: "https://coppice.test/c/commons",
			BrokerIRI: actors[1], ActivityIRI: "https://coppice.test/c/orchard/activities/share-1", CreatedAt: at})
	})

	// The console and signing in.
	admin, err := st.CreateAccount(ctx, storage.Account{Username: "ada", Kind: storage.AccountAdmin, CreatedAt: at}, "$2a$10$hash")
	must("admin", err)
	steward, err := st.CreateAccount(ctx, storage.Account{Username: "sam", Kind: storage.AccountSteward, CreatedAt: at}, "$2a$10$hash")
	must("steward", err)
	must("stewardship", st.SetSteward(ctx, storage.Stewardship{AccountID: steward.ID, CommunityID: c.ID, Role: storage.RoleModerator}, at))
	must("session", st.CreateSession(ctx, storage.Session{TokenHash: "session-hash", AccountID: admin.ID, CSRFToken: "csrf", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}))
	must("login failure", st.RecordLoginFailure(ctx, []string{"192.0.2.7", "192.0.2.7 ada"}, at, time.Hour))
	must("audit", st.RecordAudit(ctx, storage.AuditEntry{Username: "ada", Action: "community.create", Community: "commons", At: at}))
	_, err = st.CreateSignInRequest(ctx, storage.SignInRequest{Kind: storage.SignInLink, TokenHash: "token-hash", PreSessionHash: "pre-hash",
		Handle: "u0@mastodon.example", ActorIRI: actors[0], ClientKey: "2001:db8::/64", CreatedAt: at, ExpiresAt: at.Add(15 * time.Minute)})
	must("sign-in request", err)
	must("oauth app", st.SaveOAuthApp(ctx, storage.OAuthApp{Server: "https://mastodon.example", RedirectURI: "https://coppice.test/signin/oauth",
		ClientID: "id", ClientSecret: "secret", CreatedAt: at}))
	must("member session", st.CreateMemberSession(ctx, storage.MemberSession{TokenHash: "member-hash", ActorIRI: actors[0],
		Handle: "@u0@mastodon.example", Method: storage.SignInLink, CSRFToken: "csrf", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}))
	must("domain policy", st.SetDomainPolicy(ctx, "spam.example", storage.PolicyBlock, at))
	must("setting", st.SetSetting(ctx, "federation_mode", "open"))
	return Filled{Community: c, Other: other, PostIRI: postIRI, Actor: actors[0], At: at}
}
