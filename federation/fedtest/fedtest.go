// Package fedtest runs fake remote fediverse instances for tests: real
// HTTP servers on loopback addresses, with their own actors and RSA keys,
// that sign what they send and verify what they receive. Only tests import
// it.
//
// By default an instance is as strict as the strictest real servers
// (../shared/PEERS.md, GoToSocial 0.20 and Mastodon in secure mode):
//   - GETs of actors, objects and collections need a valid HTTP signature;
//     only WebFinger and the key documents are public, and a key document
//     is GoToSocial's minimal Person whose id is the actor, not the key;
//   - every actor that signs a request to it is dereferenced (by a signed
//     GET) and WebFingered as acct:preferredUsername@host, and the request is
//     refused when the WebFinger subject or self link does not lead back to
//     that actor (401 for a POST, 500 for a GET, as GoToSocial answers);
//   - it signs with algorithm="hs2019" and posts with Content-Type
//     application/ld+json; profile="https://www.w3.org/ns/activitystreams".
//
// Lenient turns the checks of incoming requests off for the rare test that
// needs it; such a test says why.
package fedtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// Received is one POST an instance's inbox got.
type Received struct {
	Path     string
	Header   http.Header
	Body     []byte
	Activity map[string]any
	KeyID    string
	// Err is why the signature did not verify; nil when it did.
	Err error
	At  time.Time
}

// Responder decides the answer to a POST before it is verified and
// recorded; returning 0 lets the instance handle it normally (202).
type Responder func(r *http.Request) int

// Instance is a fake remote server.
type Instance struct {
	t      testing.TB
	server *httptest.Server
	// URL is http://ADDR, the origin of every IRI of the instance.
	URL string
	// Host is ADDR, host and port.
	Host string
	key  *rsa.PrivateKey
	pem  string

	strict     bool
	groupAware bool
	software   string // the NodeInfo software name; "": no NodeInfo
	// self is the instance's own actor, which signs the GETs it makes.
	self *Actor

	mu         sync.Mutex
	actors     map[string]*Actor
	signers    map[string]signer // keyID → a signer authenticated before
	handshakes map[string]int    // host → dereferences of its actors in progress
	responder  Responder
	received   []Received
	timeline   []Shown
	gets       map[string]int
	documents  map[string][]byte // path → ActivityStreams document served at it
	down       bool              // answer every request with 503
	api        *MastodonAPI      // the Mastodon client API, when enabled
	aliases    map[string]string // user → actor IRI its WebFinger names instead
	redirects  map[string]string // path → URL a GET of it is redirected to (302)
	subjects   map[string]string // user → subject its WebFinger answers with
	notify     chan struct{}
	client     *http.Client
}

// Actor is a Person on a fake instance.
type Actor struct {
	Name  string
	IRI   string
	KeyID string
	Inbox string
	inst  *Instance
}

// keyPool shares a few RSA keys across the instances of one test binary:
// generating a 2048-bit key costs about 100 ms.
var keyPool struct {
	sync.Mutex
	keys []*rsa.PrivateKey
	next int
}

func poolKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	keyPool.Lock()
	defer keyPool.Unlock()
	if len(keyPool.keys) < 4 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keyPool.keys = append(keyPool.keys, k)
		return k
	}
	keyPool.next++
	return keyPool.keys[keyPool.next%len(keyPool.keys)]
}

// Option configures New.
type Option func(*config)

type config struct {
	addr       string
	lenient    bool
	groupAware bool
	software   string
}

// Lenient makes the instance accept unsigned GETs and stop dereferencing
// and WebFingering the actors that sign requests to it; their signatures
// are still verified. Only a test that cannot work otherwise uses it, and
// says why.
func Lenient() Option { return func(c *config) { c.lenient = true } }

// OnAddress binds the instance to a given loopback IP (127.0.0.2, …) so
// several instances are several hosts.
func OnAddress(ip string) Option { return func(c *config) { c.addr = ip } }

// New starts a fake instance on loopback; it stops when the test ends.
func New(t testing.TB, opts ...Option) *Instance {
	t.Helper()
	cfg := config{addr: "127.0.0.1"}
	for _, o := range opts {
		o(&cfg)
	}
	ln, err := net.Listen("tcp", cfg.addr+":0")
	if err != nil {
		t.Fatalf("fedtest: listen on %s: %v", cfg.addr, err)
	}
	key := poolKey(t)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	in := &Instance{
		t: t, key: key,
		pem:    string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		strict: !cfg.lenient, groupAware: cfg.groupAware, software: cfg.software,
		actors: map[string]*Actor{}, signers: map[string]signer{}, handshakes: map[string]int{}, gets: map[string]int{}, documents: map[string][]byte{},
		notify: make(chan struct{}, 1),
		client: &http.Client{Timeout: 10 * time.Second},
	}
	in.server = httptest.NewUnstartedServer(http.HandlerFunc(in.serveHTTP))
	in.server.Listener.Close()
	in.server.Listener = ln
	in.server.Start()
	t.Cleanup(in.server.Close)
	in.URL = in.server.URL
	in.Host = strings.TrimPrefix(in.URL, "http://")
	in.self = in.NewActor(instanceActorName)
	return in
}

// instanceActorName is the preferredUsername of the actor that signs the
// instance's own GETs, as GoToSocial's instance account signs its.
const instanceActorName = "fedtest.internal"

// Down makes the instance answer every request with 503 (true) or serve
// again (false).
func (in *Instance) Down(down bool) {
	in.mu.Lock()
	in.down = down
	in.mu.Unlock()
}

// Serve makes the instance answer GET path with an ActivityStreams
// document (a post a test wants us to fetch).
func (in *Instance) Serve(path string, doc []byte) {
	in.mu.Lock()
	in.documents[path] = doc
	in.mu.Unlock()
}

// Respond installs a responder for POSTs (nil restores normal handling).
func (in *Instance) Respond(r Responder) {
	in.mu.Lock()
	in.responder = r
	in.mu.Unlock()
}

// NewActor adds a Person called name. Its key id is IRI/main-key, served
// publicly as GoToSocial serves it.
func (in *Instance) NewActor(name string) *Actor {
	a := &Actor{Name: name, IRI: in.URL + "/users/" + name, inst: in}
	a.KeyID = a.IRI + "/main-key"
	a.Inbox = a.IRI + "/inbox"
	in.mu.Lock()
	in.actors[name] = a
	in.mu.Unlock()
	return a
}

// AliasWebFinger makes the instance's WebFinger answer acct:user@host with
// actorIRI as the self link, an actor it need not host (as a lying server
// would).
func (in *Instance) AliasWebFinger(user, actorIRI string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.aliases == nil {
		in.aliases = map[string]string{}
	}
	in.aliases[user] = actorIRI
}

// Redirect makes a GET of path (a key id's, say) answer 302 to target,
// as a hostile or misconfigured server would (SIG-14).
func (in *Instance) Redirect(path, target string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.redirects == nil {
		in.redirects = map[string]string{}
	}
	in.redirects[path] = target
}

// AliasSubject makes the instance's WebFinger for one of its actors answer
// with subject instead of acct:user@host, as the actor's host of a split
// domain does (the handle is on another domain).
func (in *Instance) AliasSubject(user, subject string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.subjects == nil {
		in.subjects = map[string]string{}
	}
	in.subjects[user] = subject
}

// SharedInbox is the instance's shared inbox.
func (in *Instance) SharedInbox() string { return in.URL + "/inbox" }

// Key is the private key every actor of the instance signs with.
func (in *Instance) Key() *rsa.PrivateKey {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.key
}

// Gets returns how many GETs the instance answered for path.
func (in *Instance) Gets(path string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.gets[path]
}

// RotateKey gives the instance's actors a new key pair, as a server does
// after a key compromise.
func (in *Instance) RotateKey(t testing.TB) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	in.mu.Lock()
	in.key = k
	in.pem = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	in.mu.Unlock()
}

// ActorJSON is the actor document the instance serves for a.
func (a *Actor) ActorJSON() []byte { return a.person(false) }

// KeyJSON is the document served at a's key id: GoToSocial's minimal
// Person, whose id is the actor and which holds nothing but
// preferredUsername and publicKey.
func (a *Actor) KeyJSON() []byte { return a.person(true) }

func (a *Actor) person(minimal bool) []byte {
	a.inst.mu.Lock()
	pemText := a.inst.pem
	a.inst.mu.Unlock()
	p := streams.NewActivityStreamsPerson()
	iri, _ := url.Parse(a.IRI)
	id := streams.NewJSONLDIdProperty()
	id.Set(iri)
	p.SetJSONLDId(id)
	pu := streams.NewActivityStreamsPreferredUsernameProperty()
	pu.SetXMLSchemaString(a.Name)
	p.SetActivityStreamsPreferredUsername(pu)
	p.SetW3IDSecurityV1PublicKey(publicKey(iri, a.KeyID, pemText))
	if minimal {
		return marshal(p)
	}
	name := streams.NewActivityStreamsNameProperty()
	name.AppendXMLSchemaString("Test user " + a.Name)
	p.SetActivityStreamsName(name)
	inbox := streams.NewActivityStreamsInboxProperty()
	inboxIRI, _ := url.Parse(a.Inbox)
	inbox.SetIRI(inboxIRI)
	p.SetActivityStreamsInbox(inbox)
	outbox := streams.NewActivityStreamsOutboxProperty()
	outboxIRI, _ := url.Parse(a.IRI + "/outbox")
	outbox.SetIRI(outboxIRI)
	p.SetActivityStreamsOutbox(outbox)
	p.GetUnknownProperties()["endpoints"] = map[string]any{"sharedInbox": a.inst.SharedInbox()}
	return marshal(p)
}

func publicKey(owner *url.URL, keyID, pemText string) vocab.W3IDSecurityV1PublicKeyProperty {
	k := streams.NewW3IDSecurityV1PublicKey()
	kid := streams.NewJSONLDIdProperty()
	kid.Set(mustURL(keyID))
	k.SetJSONLDId(kid)
	o := streams.NewW3IDSecurityV1OwnerProperty()
	o.SetIRI(owner)
	k.SetW3IDSecurityV1Owner(o)
	kp := streams.NewW3IDSecurityV1PublicKeyPemProperty()
	kp.Set(pemText)
	k.SetW3IDSecurityV1PublicKeyPem(kp)
	prop := streams.NewW3IDSecurityV1PublicKeyProperty()
	prop.AppendW3IDSecurityV1PublicKey(k)
	return prop
}

func marshal(t vocab.Type) []byte {
	b, err := federation.Marshal(t)
	if err != nil {
		panic(err) // a document we built ourselves always serializes
	}
	return b
}

// mediaAS is what the instance sends and serves ActivityStreams as.
const mediaAS = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

func (in *Instance) serveHTTP(w http.ResponseWriter, r *http.Request) {
	in.mu.Lock()
	down := in.down
	if r.Method == http.MethodGet {
		in.gets[r.URL.Path]++
	}
	doc, isDoc := in.documents[r.URL.Path]
	redirect, isRedirect := in.redirects[r.URL.Path]
	api := in.api
	in.mu.Unlock()
	if down {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	if isRedirect && r.Method == http.MethodGet {
		http.Redirect(w, r, redirect, http.StatusFound)
		return
	}
	if api != nil && api.serve(w, r) {
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/.well-known/webfinger":
		in.webFinger(w, r)
	case r.Method == http.MethodGet && (r.URL.Path == "/.well-known/nodeinfo" || r.URL.Path == "/nodeinfo/2.0"):
		in.nodeInfo(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/users/") && strings.HasSuffix(r.URL.Path, "/main-key"):
		// The key document is public, as on GoToSocial.
		a := in.actor(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/users/"), "/main-key"))
		if a == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		_, _ = w.Write(a.KeyJSON())
	case r.Method == http.MethodGet:
		if status, err := in.authorizeGet(r); err != nil {
			http.Error(w, err.Error(), status)
			return
		}
		if isDoc {
			w.Header().Set("Content-Type", "application/activity+json")
			_, _ = w.Write(doc)
			return
		}
		a := in.actor(strings.TrimPrefix(r.URL.Path, "/users/"))
		if !strings.HasPrefix(r.URL.Path, "/users/") || a == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		_, _ = w.Write(a.ActorJSON())
	case r.Method == http.MethodPost && (r.URL.Path == "/inbox" || strings.HasSuffix(r.URL.Path, "/inbox")):
		in.inbox(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (in *Instance) actor(name string) *Actor {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.actors[name]
}

// webFinger answers acct:NAME@HOST for the instance's actors.
func (in *Instance) webFinger(w http.ResponseWriter, r *http.Request) {
	user, host, _ := strings.Cut(strings.TrimPrefix(r.URL.Query().Get("resource"), "acct:"), "@")
	in.mu.Lock()
	alias, isAlias := in.aliases[user]
	in.mu.Unlock()
	if isAlias && host == in.Host {
		w.Header().Set("Content-Type", "application/jrd+json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"subject": "acct:" + user + "@" + host,
			"links":   []map[string]string{{"rel": "self", "type": "application/activity+json", "href": alias}},
		})
		return
	}
	a := in.actor(user)
	if a == nil || host != in.Host {
		http.NotFound(w, r)
		return
	}
	in.mu.Lock()
	subject, ok := in.subjects[user]
	in.mu.Unlock()
	if !ok {
		subject = "acct:" + user + "@" + host
	}
	w.Header().Set("Content-Type", "application/jrd+json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"subject": subject,
		"links":   []map[string]string{{"rel": "self", "type": "application/activity+json", "href": a.IRI}},
	})
}

// authorizeGet lets a GET through when the instance is lenient or the
// request is signed by an actor that authenticates (see authenticate).
func (in *Instance) authorizeGet(r *http.Request) (int, error) {
	if !in.strict {
		return 0, nil
	}
	if r.Header.Get("Signature") == "" && r.Header.Get("Signature-Input") == "" {
		return http.StatusUnauthorized, errors.New("this server requires signed GETs")
	}
	if _, err := in.authenticate(r, nil, ""); err != nil {
		var ae *authError
		if errors.As(err, &ae) && ae.signer {
			// GoToSocial answers 500 when it cannot dereference or
			// WebFinger the signer of a GET.
			return http.StatusInternalServerError, err
		}
		return http.StatusUnauthorized, err
	}
	return 0, nil
}

func (in *Instance) inbox(w http.ResponseWriter, r *http.Request) {
	in.mu.Lock()
	resp := in.responder
	in.mu.Unlock()
	if resp != nil {
		if code := resp(r); code != 0 {
			w.WriteHeader(code)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rec := Received{Path: r.URL.Path, Header: r.Header.Clone(), Body: body, At: time.Now()}
	rec.KeyID, rec.Err = in.verify(r, body)
	_ = json.Unmarshal(body, &rec.Activity)
	if rec.Err == nil {
		// Applied before the delivery is seen as received, so a test that
		// waited for it reads the timeline that follows from it.
		in.apply(rec.Activity)
	}
	in.mu.Lock()
	in.received = append(in.received, rec)
	in.mu.Unlock()
	select {
	case in.notify <- struct{}{}:
	default:
	}
	if rec.Err != nil {
		http.Error(w, rec.Err.Error(), http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// verify checks the signature of a delivery the way GoToSocial and
// Mastodon do: the signer authenticates (see authenticate) and is the
// activity's actor.
func (in *Instance) verify(r *http.Request, body []byte) (string, error) {
	var act struct {
		Actor string `json:"actor"`
	}
	if err := json.Unmarshal(body, &act); err != nil {
		return "", fmt.Errorf("activity: %w", err)
	}
	s, err := in.authenticate(r, body, act.Actor)
	if err != nil {
		return s.keyID, err
	}
	return s.keyID, nil
}

// Received returns a copy of every POST received so far.
func (in *Instance) Received() []Received {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Received(nil), in.received...)
}

// Wait waits until match has returned true for n received POSTs, or fails
// the test after timeout. It returns the matching ones.
func (in *Instance) Wait(t testing.TB, n int, timeout time.Duration, match func(Received) bool) []Received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		var got []Received
		for _, r := range in.Received() {
			if match == nil || match(r) {
				got = append(got, r)
			}
		}
		if len(got) >= n {
			return got
		}
		select {
		case <-in.notify:
		case <-deadline.C:
			t.Fatalf("fedtest %s: got %d matching deliveries after %v, want %d", in.Host, len(got), timeout, n)
		}
	}
}

// Post signs body as actor a (Mastodon style) and POSTs it to inbox. It
// returns the status and response body.
func (a *Actor) Post(t testing.TB, inbox string, body []byte) (int, string) {
	t.Helper()
	return a.PostWith(t, inbox, body, nil)
}

// PostWith is Post with a hook that may change the signed request before it
// is sent (to forge, replay or break it).
func (a *Actor) PostWith(t testing.TB, inbox string, body []byte, tamper func(r *http.Request, body *[]byte)) (int, string) {
	t.Helper()
	req, err := a.SignedRequest(inbox, body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if tamper != nil {
		tamper(req, &body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	res, err := a.inst.client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", inbox, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	return res.StatusCode, string(b)
}

// SignedRequest builds a POST of body to inbox signed by a at now.
func (a *Actor) SignedRequest(inbox string, body []byte, now time.Time) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", mediaAS)
	if err := signature.SignHS2019(req, body, a.KeyID, a.inst.Key(), now); err != nil {
		return nil, err
	}
	return req, nil
}

// Follow returns a Follow of target by a, built with streams.
func (a *Actor) Follow(target string) []byte {
	f := streams.NewActivityStreamsFollow()
	setIDActor(f, a.IRI+"/follows/"+randomID(), a.IRI)
	obj := streams.NewActivityStreamsObjectProperty()
	obj.AppendIRI(mustURL(target))
	f.SetActivityStreamsObject(obj)
	b, err := federation.Marshal(f)
	if err != nil {
		panic(err)
	}
	return b
}

// UndoFollow returns an Undo of a Follow (embedded, as Mastodon sends it).
func (a *Actor) UndoFollow(follow []byte) []byte {
	var m map[string]any
	if err := json.Unmarshal(follow, &m); err != nil {
		panic(err)
	}
	f, err := streams.ToType(context.Background(), m)
	if err != nil {
		panic(err)
	}
	u := streams.NewActivityStreamsUndo()
	setIDActor(u, a.IRI+"/activities/"+randomID(), a.IRI)
	obj := streams.NewActivityStreamsObjectProperty()
	if err := obj.AppendType(f); err != nil {
		panic(err)
	}
	u.SetActivityStreamsObject(obj)
	b, err := federation.Marshal(u)
	if err != nil {
		panic(err)
	}
	return b
}

// setIDActor sets id and actor of an activity.
func setIDActor(t interface {
	SetJSONLDId(vocab.JSONLDIdProperty)
	SetActivityStreamsActor(vocab.ActivityStreamsActorProperty)
}, id, actor string) {
	idp := streams.NewJSONLDIdProperty()
	idp.Set(mustURL(id))
	t.SetJSONLDId(idp)
	ap := streams.NewActivityStreamsActorProperty()
	ap.AppendIRI(mustURL(actor))
	t.SetActivityStreamsActor(ap)
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}
