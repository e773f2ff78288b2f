package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/keypair"
	"github.com/coppice-dev/coppice/internal/server"
	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// testInstance is a whole Coppice instance on a loopback httptest server
// whose URL is its base URL, with its background work running.
type testInstance struct {
	URL     string
	store   *storage.Store
	svc     *community.Service
	handler http.Handler // the whole router, for benchmarks without the network
}

func (ti *testInstance) actor(name string) string { return ti.URL + "/c/" + name }
func (ti *testInstance) inbox(name string) string { return ti.URL + "/c/" + name + "/inbox" }
func (ti *testInstance) sharedInbox() string      { return ti.URL + "/inbox" }

// newInstance starts an instance with a community called seedbreeders,
// wired by server.NewInstance as serve wires it, on a loopback httptest
// server whose URL is its base URL, with its background work running.
// insecure is --insecure-federation: without it, loopback peers are refused.
// Outgoing requests time out after 10 s unless an option says otherwise;
// opts change the instance's options before it is made.
func newInstance(t testing.TB, insecure bool, opts ...func(*server.Options)) *testInstance {
	t.Helper()
	st := storagetest.Open(t)
	srv := httptest.NewUnstartedServer(nil)
	base, err := url.Parse("http://" + srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	o := server.Options{Store: st, BaseURL: base, MediaDir: t.TempDir(), Version: "test",
		InsecureFederation: insecure, ClientTimeout: 10 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inst, err := server.NewInstance(ctx, o)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	srv.Config.Handler = inst
	srv.Start()
	done := make(chan error, 1)
	go func() { done <- inst.Run(ctx) }()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("instance: %v", err)
		}
	})
	if _, err := inst.Community.CreateCommunity(ctx, community.NewCommunity{
		Name: "seedbreeders", Title: "Seed breeders", Summary: "Open-pollinated seed breeding.",
	}); err != nil {
		t.Fatal(err)
	}
	return &testInstance{URL: srv.URL, store: st, svc: inst.Community, handler: inst}
}

func get(t *testing.T, rawURL, accept string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// TestMastodonStyleDiscovery walks the path a Mastodon server takes when a
// user types @seedbreeders@host: WebFinger, the Group actor and its key,
// NodeInfo, the outbox.
func TestMastodonStyleDiscovery(t *testing.T) {
	ti := newInstance(t, true)
	host := strings.TrimPrefix(ti.URL, "http://")

	res, body := get(t, ti.URL+"/.well-known/webfinger?resource=acct:seedbreeders@"+host, "application/jrd+json")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/jrd+json" {
		t.Fatalf("WebFinger: %d %s, want 200 application/jrd+json", res.StatusCode, res.Header.Get("Content-Type"))
	}
	jrd := decode(t, body)
	if jrd["subject"] != "acct:seedbreeders@"+host {
		t.Errorf("subject = %v, want acct:seedbreeders@%s", jrd["subject"], host)
	}
	var self string
	for _, l := range jrd["links"].([]any) {
		l := l.(map[string]any)
		if l["rel"] == "self" && l["type"] == "application/activity+json" {
			self = l["href"].(string)
		}
	}
	if self != ti.URL+"/c/seedbreeders" {
		t.Fatalf("self link = %q, want %s/c/seedbreeders", self, ti.URL)
	}

	res, body = get(t, self, "application/activity+json, application/ld+json")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/activity+json" {
		t.Fatalf("actor: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	actor, err := federation.ParseActor(context.Background(), body)
	if err != nil {
		t.Fatalf("ParseActor: %v", err)
	}
	if actor.IRI != self || actor.Type != "Group" || actor.KeyID != self+"#main-key" || actor.SharedInbox != ti.URL+"/inbox" {
		t.Errorf("actor = %+v", actor)
	}
	if _, err := keypair.ParsePublic(actor.PublicKeyPEM); err != nil {
		t.Errorf("publicKeyPem does not parse: %v", err)
	}

	res, body = get(t, ti.URL+"/.well-known/nodeinfo", "")
	if res.StatusCode != 200 {
		t.Fatalf("nodeinfo discovery: %d", res.StatusCode)
	}
	links := decode(t, body)["links"].([]any)
	if len(links) != 2 {
		t.Fatalf("nodeinfo links = %v, want 2.0 and 2.1", links)
	}
	for _, l := range links {
		href := l.(map[string]any)["href"].(string)
		res, body = get(t, href, "")
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("GET %s: %d %s", href, res.StatusCode, res.Header.Get("Content-Type"))
		}
		ni := decode(t, body)
		sw := ni["software"].(map[string]any)
		if sw["name"] != "coppice" || sw["version"] != "test" {
			t.Errorf("%s software = %v", href, sw)
		}
		if p := ni["protocols"].([]any); len(p) != 1 || p[0] != "activitypub" {
			t.Errorf("%s protocols = %v", href, p)
		}
		if md := ni["metadata"].(map[string]any); md["communities"] != float64(1) {
			t.Errorf("%s metadata = %v, want communities 1", href, md)
		}
		if _, ok := ni["usage"].(map[string]any)["users"]; !ok {
			t.Errorf("%s has no usage.users", href)
		}
	}

	res, body = get(t, ti.URL+"/c/seedbreeders/outbox", "application/activity+json")
	outbox := decode(t, body)
	if res.StatusCode != 200 || outbox["type"] != "OrderedCollection" || outbox["totalItems"] != float64(0) {
		t.Fatalf("outbox: %d %v", res.StatusCode, outbox)
	}
	res, body = get(t, outbox["first"].(string), "application/activity+json")
	page := decode(t, body)
	if res.StatusCode != 200 || page["type"] != "OrderedCollectionPage" || page["partOf"] != ti.URL+"/c/seedbreeders/outbox" {
		t.Errorf("outbox first page: %d %v", res.StatusCode, page)
	}
}

func TestActorContentNegotiation(t *testing.T) {
	ti := newInstance(t, true)
	tests := []struct {
		accept, wantType string
	}{
		{"application/activity+json", "application/activity+json"},
		{`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html; charset=utf-8"},
		{"", "text/html; charset=utf-8"},
		{"*/*", "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			res, body := get(t, ti.URL+"/c/seedbreeders", tt.accept)
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != tt.wantType {
				t.Errorf("Accept %q: %d %q, want 200 %q", tt.accept, res.StatusCode, res.Header.Get("Content-Type"), tt.wantType)
			}
			if strings.HasPrefix(tt.wantType, "text/html") {
				for _, want := range []string{"<h1>Seed breeders</h1>", "Open-pollinated seed breeding.", "@seedbreeders@"} {
					if !strings.Contains(string(body), want) {
						t.Errorf("HTML page lacks %q", want)
					}
				}
			}
		})
	}
	res, _ := get(t, ti.URL+"/c/nobody", "application/activity+json")
	if res.StatusCode != 404 {
		t.Errorf("unknown community as JSON: %d, want 404", res.StatusCode)
	}
	res, _ = get(t, ti.URL+"/c/nobody", "text/html")
	if res.StatusCode != 404 {
		t.Errorf("unknown community as HTML: %d, want 404", res.StatusCode)
	}
}

func TestWebFinger(t *testing.T) {
	ti := newInstance(t, true)
	host := strings.TrimPrefix(ti.URL, "http://")
	tests := []struct {
		name, resource string
		want           int
	}{
		{"known name", "acct:seedbreeders@" + host, 200},
		{"known name without acct scheme", "seedbreeders@" + host, 200},
		{"upper-case host", "acct:seedbreeders@" + strings.ToUpper(host), 200},
		{"actor URL", ti.URL + "/c/seedbreeders", 200},
		{"unknown name", "acct:nobody@" + host, 404},
		{"other host", "acct:seedbreeders@elsewhere.example", 404},
		{"host without our port", "acct:seedbreeders@127.0.0.1", 404},
		{"actor URL on another host", "https://elsewhere.example/c/seedbreeders", 404},
		{"our URL that is not an actor", ti.URL + "/c/seedbreeders/outbox", 404},
		{"missing resource", "", 400},
		{"acct without user", "acct:@" + host, 400},
		{"acct without host", "acct:seedbreeders", 400},
		{"mailto scheme", "mailto:seedbreeders@" + host, 400},
		{"two at signs", "acct:a@b@" + host, 400},
		{"oversized", "acct:" + strings.Repeat("a", 600) + "@" + host, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, ti.URL+"/.well-known/webfinger?"+url.Values{"resource": {tt.resource}}.Encode(), "")
			if res.StatusCode != tt.want {
				t.Fatalf("WebFinger(%q) = %d %s, want %d", tt.resource, res.StatusCode, body, tt.want)
			}
			if tt.want == 200 {
				if ct := res.Header.Get("Content-Type"); ct != "application/jrd+json" {
					t.Errorf("Content-Type = %q, want application/jrd+json", ct)
				}
				if s := decode(t, body)["subject"]; s != "acct:seedbreeders@"+host {
					t.Errorf("subject = %v", s)
				}
			}
		})
	}
}

func TestCollectionsArePagedAndEmpty(t *testing.T) {
	ti := newInstance(t, true)
	for _, c := range []string{"outbox", "followers", "featured", "moderators", "members", "discussions", "resources", "events"} {
		t.Run(c, func(t *testing.T) {
			res, body := get(t, ti.URL+"/c/seedbreeders/"+c, "application/activity+json")
			m := decode(t, body)
			if res.StatusCode != 200 || m["type"] != "OrderedCollection" || m["totalItems"] != float64(0) || m["first"] != ti.URL+"/c/seedbreeders/"+c+"?page=1" {
				t.Errorf("%s: %d %v", c, res.StatusCode, m)
			}
			res, body = get(t, ti.URL+"/c/seedbreeders/"+c+"?page=1", "application/activity+json")
			m = decode(t, body)
			items, ok := m["orderedItems"].([]any)
			if res.StatusCode != 200 || m["type"] != "OrderedCollectionPage" || !ok || len(items) != 0 || m["next"] != nil {
				t.Errorf("%s page 1: %d %v", c, res.StatusCode, m)
			}
		})
	}
	for _, bad := range []string{"?page=0", "?page=-1", "?page=abc", "?page=99999999999"} {
		res, _ := get(t, ti.URL+"/c/seedbreeders/outbox"+bad, "application/activity+json")
		if res.StatusCode != 400 {
			t.Errorf("outbox%s: %d, want 400", bad, res.StatusCode)
		}
	}
	res, _ := get(t, ti.URL+"/c/seedbreeders/secrets", "application/activity+json")
	if res.StatusCode != 404 {
		t.Errorf("unknown collection: %d, want 404", res.StatusCode)
	}
	res, _ = get(t, ti.URL+"/c/nobody/outbox", "application/activity+json")
	if res.StatusCode != 404 {
		t.Errorf("collection of unknown community: %d, want 404", res.StatusCode)
	}
}

func TestInstanceActorAndHostMeta(t *testing.T) {
	ti := newInstance(t, true)
	res, body := get(t, ti.URL+"/actor", "application/activity+json")
	if res.StatusCode != 200 {
		t.Fatalf("instance actor: %d", res.StatusCode)
	}
	a, err := federation.ParseActor(context.Background(), body)
	if err != nil || a.Type != "Application" || a.KeyID != ti.URL+"/actor#main-key" {
		t.Errorf("instance actor = %+v, %v", a, err)
	}
	res, body = get(t, ti.URL+"/.well-known/host-meta", "")
	if res.StatusCode != 200 || !strings.Contains(string(body), `template="`+ti.URL+`/.well-known/webfinger?resource={uri}"`) {
		t.Errorf("host-meta: %d %s", res.StatusCode, body)
	}
	res, _ = get(t, ti.URL+"/healthz", "")
	if res.StatusCode != 200 {
		t.Errorf("healthz: %d", res.StatusCode)
	}
}
