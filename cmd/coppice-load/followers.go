package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// fanoutCommunity creates a new community with posting 'anyone' for one
// fan-out run, and seeds the followers every host has besides its first:
// their actors and accepted follows, written directly through storage
// (UpsertActor, UpsertFollow), as if each had followed over HTTP. The
// first follower of each host follows over HTTP once the server runs
// (followOverHTTP), so the server learns each host's software from its
// NodeInfo as it does in production. A new community per run keeps the
// followers of earlier runs, whose hosts are gone, out of the run.
func fanoutCommunity(ctx context.Context, db, name string, f *fleet, perHost int) (storage.Community, *storage.Store, error) {
	st, err := storage.Open(ctx, db)
	if err != nil {
		return storage.Community{}, nil, err
	}
	svc := community.New(st, time.Now, nil, community.Options{})
	c, err := svc.CreateCommunity(ctx, community.NewCommunity{Name: name, Title: "Fan-out load test", Summary: "Posts sent by coppice-load fanout"})
	if err == nil {
		_, err = svc.UpdateSettings(ctx, name, community.Settings{PostingPolicy: community.PostAnyone, BoostReplies: true})
	}
	if err == nil {
		c, err = st.CommunityByName(ctx, name)
	}
	if err != nil {
		st.Close()
		return storage.Community{}, nil, err
	}
	now := time.Now()
	var iris []string
	for _, h := range f.hosts {
		for u := 1; u < perHost; u++ {
			user := fmt.Sprintf("u%d", u)
			doc := h.actor(user)
			raw := fmt.Appendf(nil, `{"id":%q,"type":"Person","inbox":%q,"endpoints":{"sharedInbox":%q}}`, doc["id"], doc["inbox"], h.sharedInbox())
			a := storage.Actor{IRI: h.actorIRI(user), Type: "Person", Host: h.host, PreferredUsername: user,
				Inbox: h.actorIRI(user) + "/inbox", SharedInbox: h.sharedInbox(), Raw: raw, FetchedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
			if err := st.UpsertActor(ctx, a); err != nil {
				st.Close()
				return storage.Community{}, nil, err
			}
			iris = append(iris, a.IRI)
		}
	}
	err = st.InTx(ctx, func(tx *storage.Tx) error {
		for _, iri := range iris {
			if _, err := tx.UpsertFollow(ctx, storage.Follow{CommunityID: c.ID, ActorIRI: iri, FollowIRI: iri + "#follow-" + name,
				State: storage.FollowAccepted, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		st.Close()
		return storage.Community{}, nil, err
	}
	return c, st, nil
}

// followOverHTTP sends the signed Follow of the first user of every host
// to the community's inbox, a few at a time, and waits until every host
// got its Accept.
func followOverHTTP(ctx context.Context, client *http.Client, f *fleet, communityIRI string, run int64) error {
	inbox := communityIRI + "/inbox"
	follows := make([]signedPost, len(f.hosts))
	for i, h := range f.hosts {
		p, err := h.follow("u0", communityIRI, inbox, run)
		if err != nil {
			return err
		}
		follows[i] = p
	}
	errs := make(chan error, len(follows))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, p := range follows {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if code := do(client, p); code != http.StatusAccepted {
				errs <- fmt.Errorf("follow from %s: HTTP %d", f.hosts[i].host, code)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := errors.Join(collect(errs)...); err != nil {
		return err
	}
	return waitFor(ctx, time.Minute, func() (bool, string) {
		missing := 0
		for _, h := range f.hosts {
			if h.accepts.Load() == 0 {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d hosts still without their Accept", missing)
	})
}

func collect(errs <-chan error) []error {
	var out []error
	for err := range errs {
		out = append(out, err)
	}
	return out
}

// waitFor polls done every 50ms until it is true, ctx ends or limit
// passes; then the error carries done's last word.
func waitFor(ctx context.Context, limit time.Duration, done func() (bool, string)) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, state := done()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %s", limit, state)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// checkSoftware compares what the server learnt of each host with what
// the host runs.
func checkSoftware(ctx context.Context, st *storage.Store, f *fleet) error {
	var errs []error
	for _, h := range f.hosts {
		name, family, _, err := st.HostSoftware(ctx, h.host)
		if err != nil {
			errs = append(errs, fmt.Errorf("software of %s: %w", h.host, err))
			continue
		}
		if family != h.family || (h.family != storage.FamilyUnknown && name != h.software) {
			errs = append(errs, fmt.Errorf("software of %s: learnt %q (%q), runs %q (%q)", h.host, name, family, h.software, h.family))
		}
	}
	return errors.Join(errs...)
}
