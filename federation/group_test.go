package federation

import (
	"context"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

func testIRIs(t testing.TB) IRIs {
	t.Helper()
	u, err := url.Parse("https://coppice.example:8443")
	if err != nil {
		t.Fatal(err)
	}
	return NewIRIs(u)
}

func testCommunity(t *testing.T) storage.Community {
	t.Helper()
	pem, err := os.ReadFile("testdata/community.public.pem")
	if err != nil {
		t.Fatal(err)
	}
	return storage.Community{
		ID: 1, Name: "seedbreeders", Title: "Seed breeders",
		Summary:  "Open-pollinated seed breeding.\n\nWe share <methods> & stories.",
		JoinMode: "approval", PostingPolicy: "members", Discoverable: true,
		PublicKeyPEM: string(pem),
		CreatedAt:    time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC),
	}
}

func TestGroupGolden(t *testing.T) {
	b, err := Marshal(groupToAS(testCommunity(t), testIRIs(t)))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "group", b)
}

// TestGroupRoundTrip parses the Group we serve back with streams and checks
// every field, the way a peer reads it.
func TestGroupRoundTrip(t *testing.T) {
	c := testCommunity(t)
	iris := testIRIs(t)
	b, err := Marshal(groupToAS(c, iris))
	if err != nil {
		t.Fatal(err)
	}
	typ, err := parseAS(context.Background(), b)
	if err != nil {
		t.Fatalf("parse our own Group: %v", err)
	}
	g, ok := typ.(vocab.ActivityStreamsGroup)
	if !ok {
		t.Fatalf("parsed type %T, want Group", typ)
	}
	base := "https://coppice.example:8443/c/seedbreeders"
	iri := func(p interface{ GetIRI() *url.URL }) string {
		if u := p.GetIRI(); u != nil {
			return u.String()
		}
		return ""
	}
	checks := []struct{ field, got, want string }{
		{"id", g.GetJSONLDId().Get().String(), base},
		{"preferredUsername", g.GetActivityStreamsPreferredUsername().GetXMLSchemaString(), "seedbreeders"},
		{"name", g.GetActivityStreamsName().At(0).GetXMLSchemaString(), "Seed breeders"},
		{"summary", g.GetActivityStreamsSummary().At(0).GetXMLSchemaString(), "<p>Open-pollinated seed breeding.</p><p>We share &lt;methods&gt; &amp; stories.</p>"},
		{"url", g.GetActivityStreamsUrl().At(0).GetIRI().String(), base},
		{"published", g.GetActivityStreamsPublished().Get().Format(time.RFC3339), "2026-11-01T09:30:00Z"},
		{"inbox", iri(g.GetActivityStreamsInbox()), base + "/inbox"},
		{"outbox", iri(g.GetActivityStreamsOutbox()), base + "/outbox"},
		{"followers", iri(g.GetActivityStreamsFollowers()), base + "/followers"},
		{"featured", iri(g.GetTootFeatured()), base + "/featured"},
		{"attributedTo", g.GetActivityStreamsAttributedTo().At(0).GetIRI().String(), base + "/moderators"},
		{"publicKey.id", g.GetW3IDSecurityV1PublicKey().At(0).Get().GetJSONLDId().Get().String(), base + "#main-key"},
		{"publicKey.owner", g.GetW3IDSecurityV1PublicKey().At(0).Get().GetW3IDSecurityV1Owner().GetIRI().String(), base},
		{"publicKey.publicKeyPem", g.GetW3IDSecurityV1PublicKey().At(0).Get().GetW3IDSecurityV1PublicKeyPem().Get(), c.PublicKeyPEM},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.field, ch.got, ch.want)
		}
	}
	if !g.GetTootDiscoverable().Get() {
		t.Errorf("discoverable = false, want true")
	}
	exts := map[string]any{
		"manuallyApprovesFollowers": true,
		"postingRestrictedToMods":   false,
		"members":                   base + "/members",
		"discussions":               base + "/discussions",
		"resources":                 base + "/resources",
		"events":                    base + "/events",
		"joinMode":                  "restricted",
	}
	for k, want := range exts {
		got, ok := ext(g, k)
		if !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}
	ep, _ := ext(g, "endpoints")
	if m, _ := ep.(map[string]any); m["sharedInbox"] != "https://coppice.example:8443/inbox" {
		t.Errorf("endpoints = %v, want sharedInbox https://coppice.example:8443/inbox", ep)
	}

	// The same document through the code that parses remote actors.
	a, err := ParseActor(context.Background(), b)
	if err != nil {
		t.Fatalf("ParseActor(our Group): %v", err)
	}
	if a.Inbox != base+"/inbox" || a.SharedInbox != "https://coppice.example:8443/inbox" || a.KeyID != base+"#main-key" || a.PublicKeyPEM != c.PublicKeyPEM || a.Name != "Seed breeders" {
		t.Errorf("ParseActor(our Group) = %+v", a)
	}
}

// TestGroupContextDefinesExtensions checks that every extension term we
// emit is defined in our @context, so JSON-LD processors (Friendica,
// Mobilizon) expand it.
func TestGroupContextDefinesExtensions(t *testing.T) {
	m, err := serialize(groupToAS(testCommunity(t), testIRIs(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := m["@context"].([]any)
	defs := ctx[2].(map[string]any)
	asTerms := map[string]bool{}
	for _, k := range []string{"@context", "id", "type", "preferredUsername", "name", "summary", "url", "published",
		"inbox", "outbox", "followers", "following", "attributedTo", "endpoints", "publicKey"} {
		asTerms[k] = true
	}
	for k := range m {
		if asTerms[k] {
			continue
		}
		if _, ok := defs[k]; !ok {
			t.Errorf("term %q is not defined in our @context", k)
		}
	}
	_ = streams.NewActivityStreamsGroup // streams is what built the document
}

func TestGroupIcon(t *testing.T) {
	c := testCommunity(t)
	c.IconHash, c.IconExt = "ab12", ".png"
	m, err := serialize(groupToAS(c, testIRIs(t)))
	if err != nil {
		t.Fatal(err)
	}
	icon, _ := m["icon"].(map[string]any)
	if icon["type"] != "Image" || icon["url"] != "https://coppice.example:8443/media/ab12.png" || icon["mediaType"] != "image/png" {
		t.Errorf("icon = %v", m["icon"])
	}
	c.IconExt = ".pdf"
	if m, _ := serialize(groupToAS(c, testIRIs(t))); m["icon"] != nil {
		t.Errorf("a non-image icon was published: %v", m["icon"])
	}
}
