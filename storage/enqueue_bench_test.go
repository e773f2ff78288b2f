package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// BenchmarkEnqueueFollowers measures what a post costs the write
// transaction in a community followed by 1,000 actors on 100 hosts (ten
// per host, sharing its inbox; 40 hosts of microblog software, 30 of
// group software, 30 unknown), the fan-out benchmark's community (issue
// 13): its two Announces (Announce{activity} to group and unknown hosts,
// the boost to microblog and unknown hosts), each queued for every inbox;
// with no domain policy, and with a blocklist of 5,000 other domains.
func BenchmarkEnqueueFollowers(b *testing.B) {
	for _, blocked := range []int{0, 5000} {
		b.Run(fmt.Sprintf("blocklist=%d", blocked), func(b *testing.B) { benchEnqueueFollowers(b, blocked) })
	}
}

func benchEnqueueFollowers(b *testing.B, blocked int) {
	ctx := context.Background()
	st := storagetest.Open(b)
	c := storagetest.Community(b, st, "seeds")
	now := time.Unix(1_000_000, 0)
	for i := range blocked {
		if err := st.SetDomainPolicy(ctx, fmt.Sprintf("blocked%d.example", i), storage.PolicyBlock, now); err != nil {
			b.Fatal(err)
		}
	}
	var iris []string
	for h := range 100 {
		host := fmt.Sprintf("h%d.example", h)
		family := storage.FamilyUnknown
		switch {
		case h < 40:
			family = storage.FamilyMicroblog
		case h < 70:
			family = storage.FamilyGroup
		}
		if family != storage.FamilyUnknown {
			if err := st.SetHostSoftware(ctx, host, string(family), family, now); err != nil {
				b.Fatal(err)
			}
		}
		for u := range 10 {
			iri := fmt.Sprintf("https://%s/users/u%d", host, u)
			a := storage.Actor{IRI: iri, Type: "Person", Host: host, Inbox: iri + "/inbox", SharedInbox: "https://" + host + "/inbox",
				Raw: []byte("{}"), FetchedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := st.UpsertActor(ctx, a); err != nil {
				b.Fatal(err)
			}
			iris = append(iris, iri)
		}
	}
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		for _, iri := range iris {
			if _, err := tx.UpsertFollow(ctx, storage.Follow{CommunityID: c.ID, ActorIRI: iri, FollowIRI: iri + "#follow",
				State: storage.FollowAccepted, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	queued := 0
	b.ResetTimer()
	for i := range b.N {
		err := st.InTx(ctx, func(tx *storage.Tx) error {
			for j, family := range []storage.Family{storage.FamilyGroup, storage.FamilyMicroblog} {
				id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: fmt.Sprintf("https://coppice.example/a/%d-%d", i, j),
					CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte("{}"), CreatedAt: now})
				if err != nil {
					return err
				}
				n, err := tx.EnqueueFollowersOf(ctx, id, c.ID, family, nil, now)
				if err != nil {
					return err
				}
				queued += n
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if want := 130 * b.N; queued != want {
		b.Fatalf("queued %d deliveries, want %d (130 a post)", queued, want)
	}
	b.ReportMetric(float64(queued)/float64(b.N), "deliveries/post")
}
