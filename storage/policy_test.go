package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// TestPolicyCoversPortsAndSubdomains: a policy for a host applies to every
// port of it and to its subdomains, as Mastodon's domain blocks do (ORI-10,
// issue 12 item 2); a block above a host wins over anything nearer.
func TestPolicyCoversPortsAndSubdomains(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	for host, policy := range map[string]storage.Policy{
		"gts.test": "block", "quiet.test": "silence", "loud.quiet.test": "reject_media",
		"pics.test": "reject_media", "ok.gts.test": "allow", "partner.test:8443": "allow",
	} {
		if err := st.SetDomainPolicy(ctx, host, policy, time.Unix(1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	for host, want := range map[string]string{
		"gts.test": "block", "gts.test:8080": "block", "a.gts.test": "block", "a.b.gts.test:8443": "block",
		"ok.gts.test": "block", // a block of the domain wins over an allow below it
		"xgts.test":   "", "gts.test.evil.test": "", "gts.testx": "",
		"quiet.test": "silence", "a.quiet.test": "silence", "loud.quiet.test": "reject_media", "x.loud.quiet.test:99": "reject_media",
		"pics.test:8080": "reject_media", "partner.test:8443": "allow", "partner.test": "", "a.partner.test:8443": "allow",
	} {
		got, err := st.DomainPolicy(ctx, host)
		if err != nil || string(got) != want {
			t.Errorf("DomainPolicy(%q) = %q, %v, want %q", host, got, err, want)
		}
		allowed, err := st.HostAllowed(ctx, host)
		if err != nil || allowed != (want != "block") {
			t.Errorf("HostAllowed(%q) = %v, %v, want %v", host, allowed, err, want != "block")
		}
	}
	if err := st.SetSetting(ctx, "federation_mode", storage.ModeAllowlist); err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{"partner.test:8443": true, "a.partner.test:8443": true, "partner.test": false, "quiet.test": false, "ok.gts.test": false} {
		if got, err := st.HostAllowed(ctx, host); err != nil || got != want {
			t.Errorf("allowlist mode: HostAllowed(%q) = %v, %v, want %v", host, got, err, want)
		}
	}
}

// TestEnqueueFollowersSkipsBlockedSubdomainsAndPorts: fan-out applies the
// same rule as the inbox (ORI-10, issue 12 item 2).
func TestEnqueueFollowersSkipsBlockedSubdomainsAndPorts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	follower(t, st, c, "fine.test", "a", true)
	follower(t, st, c, "sub.gts.test", "b", true)
	follower(t, st, c, "gts.test:8443", "c", true)
	if err := st.SetDomainPolicy(ctx, "gts.test", "block", time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(100, 0)
	var n int
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: "https://coppice.example/a/1", CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte("{}"), CreatedAt: now})
		if err != nil {
			return err
		}
		n, err = tx.EnqueueFollowers(ctx, id, c.ID, nil, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("EnqueueFollowers queued %d, want 1 (fine.test only)", n)
	}
	ds, err := st.ClaimDeliveries(ctx, now, time.Minute, 10, 10)
	if err != nil || len(ds) != 1 || ds[0].Host != "fine.test" {
		t.Errorf("claimed %v, %v; want one delivery to fine.test", fmt.Sprint(ds), err)
	}
}

// TestSIG20KeyIDHasOneOwner: storing an actor with a key id takes that key
// id from whoever held it; storing one without a key keeps its stored key.
func TestSIG20KeyIDHasOneOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	actor := func(user, keyID string) storage.Actor {
		return storage.Actor{IRI: "https://a.test/users/" + user, Type: "Person", Host: "a.test", Inbox: "https://a.test/users/" + user + "/inbox",
			KeyID: keyID, PublicKeyPEM: "pem of " + user, Raw: []byte("{}"), FetchedAt: time.Unix(1, 0), ExpiresAt: time.Unix(2, 0)}
	}
	key := "https://a.test/users/alice#main-key"
	for _, a := range []storage.Actor{actor("alice", key), actor("mallory", key)} {
		if err := st.UpsertActor(ctx, a); err != nil {
			t.Fatalf("UpsertActor(%s) = %v", a.IRI, err)
		}
	}
	if a, err := st.ActorByKeyID(ctx, key); err != nil || a.IRI != actor("mallory", "").IRI {
		t.Errorf("ActorByKeyID = %s, %v; want the last actor vouched for", a.IRI, err)
	}
	if a, err := st.ActorByIRI(ctx, actor("alice", "").IRI); err != nil || a.KeyID != "" || a.PublicKeyPEM != "" {
		t.Errorf("alice kept key %q %q (%v), want none", a.KeyID, a.PublicKeyPEM, err)
	}
	if err := st.UpsertActor(ctx, actor("alice", key)); err != nil {
		t.Fatal(err)
	}
	profile := actor("alice", "")
	profile.Name = "Alice"
	if err := st.UpsertActor(ctx, profile); err != nil {
		t.Fatal(err)
	}
	if a, err := st.ActorByIRI(ctx, profile.IRI); err != nil || a.KeyID != key || a.PublicKeyPEM != "pem of alice" || a.Name != "Alice" {
		t.Errorf("after a profile update: key %q pem %q name %q (%v), want the key kept", a.KeyID, a.PublicKeyPEM, a.Name, err)
	}
}
