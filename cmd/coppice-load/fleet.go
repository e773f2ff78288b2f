package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/coppice-dev/coppice/storage"
)

// fleet plays the servers of a community's followers in the fan-out
// workload: hosts on distinct loopback addresses (127.0.1.1, 127.0.1.2,
// …, each with a port of its own; see fanoutAddr), so the server under load sees as many
// hosts, limits and connection pools as there are fake hosts. Each host
// says what it runs through NodeInfo (or has no NodeInfo), serves its
// followers' actor documents, and answers every inbox POST after a fixed
// latency, as a busy peer does.
//
// Every POST is checked as a peer checks it (signature.Parse: signed
// headers, Digest, Date window, host), and one in verifyEvery also has its
// RSA signature verified with the community's public key: verifying them
// all would add 5% to the CPU of the machine the server shares. Each
// Announce is checked to have the shape its host's software shows.
type fleet struct {
	hosts   []*fakeHost
	latency time.Duration
	key     *rsa.PrivateKey // of every follower: they sign their Follows with it
	pemText string
	// verifyKey is the community's public key, set once it exists.
	verifyKey atomic.Pointer[rsa.PublicKey]

	posts      atomic.Int64 // POSTs received
	announces  atomic.Int64 // Announces accepted
	other      atomic.Int64 // other activities accepted
	verified   atomic.Int64 // RSA signatures verified
	rejected   atomic.Int64 // POSTs answered 4xx
	conns      atomic.Int64 // connections the hosts accepted
	wrongShape atomic.Int64 // Announces a host of that software does not show
	last       atomic.Int64 // Unix ns at which the last Announce was accepted
	// sample is the first Announce received, signed again to measure the
	// machine's signing rate.
	sample atomic.Pointer[[]byte]

	mu sync.Mutex
	// mu guards firstReject.
	firstReject string
}

// fanoutAddr is where host i of the fan-out workload listens: a loopback
// address of its own, any port.
func fanoutAddr(i int) string { return fmt.Sprintf("127.0.%d.%d:0", 1+i/250, 1+i%250) }

// verifyEvery: one POST in this many has its RSA signature verified and
// its JSON decoded.
const verifyEvery = 10

// fakeHost is one follower server.
type fakeHost struct {
	f        *fleet
	url      string // http://127.0.1.k:port
	host     string // 127.0.1.k:port, as storage.HostOf spells it
	software string // NodeInfo software.name; "" for no NodeInfo at all
	family   storage.Family
	srv      *http.Server
	done     chan error

	objectShape, activityShape, accepts atomic.Int64
}

// hostMix says how many hosts run microblog and group software; the others
// run software we do not know (half with a NodeInfo naming it, half with
// none).
type hostMix struct{ hosts, microblog, group int }

// software returns what host i of the mix runs.
func (m hostMix) software(i int) (string, storage.Family) {
	switch {
	case i < m.microblog && i%2 == 0:
		return "mastodon", storage.FamilyMicroblog
	case i < m.microblog:
		return "gotosocial", storage.FamilyMicroblog
	case i < m.microblog+m.group:
		return "lemmy", storage.FamilyGroup
	case i%2 == 0:
		return "fakesoft", storage.FamilyUnknown
	}
	return "", storage.FamilyUnknown
}

// perPost is how many Announces one accepted post makes: one per host of
// known software, two (both shapes) per host of unknown software.
func (m hostMix) perPost() int { return m.microblog + m.group + 2*(m.hosts-m.microblog-m.group) }

// startFleet starts the hosts of mix, host i listening on addr(i).
func startFleet(mix hostMix, latency time.Duration, addr func(i int) string) (*fleet, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("fleet key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("fleet key: %w", err)
	}
	f := &fleet{latency: latency, key: key,
		pemText: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
	for i := range mix.hosts {
		ln, err := net.Listen("tcp", addr(i))
		if err != nil {
			return nil, errors.Join(fmt.Errorf("fleet: listen on a loopback address: %w", err), f.Close())
		}
		h := &fakeHost{f: f, url: "http://" + ln.Addr().String(), host: ln.Addr().String(), done: make(chan error, 1)}
		h.software, h.family = mix.software(i)
		h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
			ConnState: func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					f.conns.Add(1)
				}
			}}
		go func() { h.done <- h.srv.Serve(ln) }()
		f.hosts = append(f.hosts, h)
	}
	return f, nil
}

// setVerifyKey sets the community key the fleet verifies signatures with.
func (f *fleet) setVerifyKey(pub any) error {
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("community key is %T, want RSA", pub)
	}
	f.verifyKey.Store(k)
	return nil
}

// Close stops every host and waits for them.
func (f *fleet) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	for _, h := range f.hosts {
		err = errors.Join(err, h.srv.Shutdown(ctx))
		if serr := <-h.done; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	}
	return err
}

func (h *fakeHost) actorIRI(user string) string { return h.url + "/users/" + user }

func (h *fakeHost) sharedInbox() string { return h.url + "/inbox" }

// actor is the document of one of the host's users.
func (h *fakeHost) actor(user string) map[string]any {
	iri := h.actorIRI(user)
	return map[string]any{
		"@context":          []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":                iri,
		"type":              "Person",
		"preferredUsername": user,
		"inbox":             iri + "/inbox",
		"outbox":            iri + "/outbox",
		"endpoints":         map[string]string{"sharedInbox": h.sharedInbox()},
		"publicKey":         map[string]string{"id": iri + "#main-key", "owner": iri, "publicKeyPem": h.f.pemText},
	}
}

func (h *fakeHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && (r.URL.Path == "/inbox" || strings.HasSuffix(r.URL.Path, "/inbox")):
		h.receive(w, r)
	case r.Method != http.MethodGet:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	case r.URL.Path == "/.well-known/nodeinfo" && h.software != "":
		writeJSON(w, "application/json", map[string]any{"links": []map[string]string{
			{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": h.url + "/nodeinfo/2.1"}}})
	case r.URL.Path == "/nodeinfo/2.1" && h.software != "":
		writeJSON(w, "application/json", map[string]any{
			"version":   "2.1",
			"software":  map[string]string{"name": h.software, "version": "1.0.0"},
			"protocols": []string{"activitypub"}, "openRegistrations": false,
			"usage": map[string]any{"users": map[string]int{}}, "metadata": map[string]any{}})
	case strings.HasPrefix(r.URL.Path, "/users/") && !strings.Contains(strings.TrimPrefix(r.URL.Path, "/users/"), "/"):
		writeJSON(w, "application/activity+json", h.actor(strings.TrimPrefix(r.URL.Path, "/users/")))
	default:
		http.NotFound(w, r)
	}
}

// receive takes one delivery: it checks the signature as a peer does,
// waits out the host's latency and counts the activity.
func (h *fakeHost) receive(w http.ResponseWriter, r *http.Request) {
	f := h.f
	n := f.posts.Add(1)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		f.reject(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	signed, err := signature.Parse(r, body, signature.Options{Now: time.Now, Host: h.host, Scheme: "http"})
	if err != nil {
		f.reject(w, http.StatusUnauthorized, "signature: "+err.Error())
		return
	}
	if key := f.verifyKey.Load(); key != nil && n%verifyEvery == 0 {
		if err := signed.Verify(key); err != nil {
			f.reject(w, http.StatusUnauthorized, "verify: "+err.Error())
			return
		}
		f.verified.Add(1)
	}
	// One POST in verifyEvery is decoded as a peer decodes it; the others
	// are only scanned for their type and the shape of their object.
	// Decoding all of them cost 12 µs a delivery, a fifth of the fake
	// hosts' CPU, which the server under load shares (issue 13).
	var doc activityShape
	if n%verifyEvery == 0 {
		doc, err = decodeShape(body)
	} else {
		doc, err = scanShape(body)
	}
	if err != nil {
		f.reject(w, http.StatusBadRequest, "JSON: "+err.Error())
		return
	}
	if f.latency > 0 {
		// The peer's processing time, not synchronisation.
		t := time.NewTimer(f.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	switch doc.typ {
	case "Announce":
		// Announce{object} names the post; Announce{activity} embeds the
		// member's Create (FEP-1b12).
		isActivity := doc.objectIsActivity
		if isActivity {
			h.activityShape.Add(1)
		} else {
			h.objectShape.Add(1)
		}
		if (h.family == storage.FamilyMicroblog && isActivity) || (h.family == storage.FamilyGroup && !isActivity) {
			f.wrongShape.Add(1)
		}
		f.announces.Add(1)
		f.last.Store(time.Now().UnixNano())
		if isActivity {
			f.sample.CompareAndSwap(nil, &body)
		}
	case "Accept":
		h.accepts.Add(1)
		f.other.Add(1)
	default:
		f.other.Add(1)
	}
	w.WriteHeader(http.StatusAccepted)
}

func (f *fleet) reject(w http.ResponseWriter, status int, why string) {
	f.rejected.Add(1)
	f.mu.Lock()
	if f.firstReject == "" {
		f.firstReject = why
	}
	f.mu.Unlock()
	http.Error(w, why, status)
}

// follow signs the Follow of communityIRI by user of host h.
func (h *fakeHost) follow(user, communityIRI, inbox string, run int64) (signedPost, error) {
	actor := h.actorIRI(user)
	body := fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":"%s/follows/%x","type":"Follow","actor":"%s","object":"%s"}`,
		actor, run, actor, communityIRI)
	r, err := http.NewRequest(http.MethodPost, inbox, nil)
	if err != nil {
		return signedPost{}, err
	}
	r.Header.Set("Content-Type", "application/activity+json")
	if err := signature.Sign(r, []byte(body), actor+"#main-key", h.f.key, time.Now()); err != nil {
		return signedPost{}, fmt.Errorf("sign follow of %s: %w", actor, err)
	}
	return signedPost{url: inbox, body: []byte(body), header: r.Header}, nil
}

// shapes counts the Announces of each shape the hosts of each family got.
func (f *fleet) shapes() map[storage.Family][2]int64 {
	out := map[storage.Family][2]int64{}
	for _, h := range f.hosts {
		c := out[h.family]
		c[0] += h.objectShape.Load()
		c[1] += h.activityShape.Load()
		out[h.family] = c
	}
	return out
}
