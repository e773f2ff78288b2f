package federation

import (
	"context"
	"errors"
	"net/http"

	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams"
)

// Authorized fetch (--authorized-fetch), as Mastodon's secure mode and
// GoToSocial do it: every GET of our objects, collections and actors must
// be signed by an actor of a host we federate with, so that a blocked host
// cannot read what it is not sent. WebFinger, NodeInfo, host-meta and the
// instance actor stay open, since a peer needs them to find the key it
// signs with; an unsigned GET of a community actor gets its key document
// only (id, inbox and publicKey), so peers can verify what the community
// signs. HTML pages are not affected: browsers cannot sign.

// serveFetch is serve for a GET of our objects: under authorized fetch the
// request must carry a valid signature first.
func (h *Handler) serveFetch(fn handlerFunc) http.Handler {
	return h.serve(func(w http.ResponseWriter, r *http.Request) error {
		if h.authFetch {
			if _, err := h.fetchSigner(r); err != nil {
				return err
			}
		}
		return fn(w, r)
	})
}

// fetchSigner verifies the signature of a GET with the same steps as the
// inbox (shape and date, federation policy before any key fetch, the key,
// refetched once) and returns the actor who signed it.
func (h *Handler) fetchSigner(r *http.Request) (storage.Actor, error) {
	signed, err := h.parseSignature(r, nil)
	if err != nil {
		var se *signature.Error
		if errors.As(err, &se) && se.Missing {
			return storage.Actor{}, reject(http.StatusUnauthorized, "this instance requires signed fetches")
		}
		return storage.Actor{}, err
	}
	keyHost, err := h.hostAllowed(r.Context(), signed.KeyID()) // SIG-18: before any fetch
	if err != nil {
		return storage.Actor{}, err
	}
	signer, err := h.verifySignature(r.Context(), signed)
	if err != nil {
		return storage.Actor{}, err
	}
	if err := h.signerAllowed(r.Context(), signer, keyHost); err != nil { // SIG-20
		return storage.Actor{}, err
	}
	return signer, nil
}

// RefuseBlocked is a router middleware: under authorized fetch, a request
// signed with the key of a host we do not federate with (blocked, or not a
// partner in allowlist mode) gets 403 whatever it asks for, WebFinger and
// the HTML pages included. Unsigned requests and requests whose signature
// does not parse pass on; the handlers decide about them. Inbox POSTs pass
// on too: the inbox applies the policy itself, after limiting the body.
func (h *Handler) RefuseBlocked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.authFetch || r.Method == http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if err := h.blockedSigner(r.Context(), r); err != nil {
			h.serve(func(http.ResponseWriter, *http.Request) error { return err }).ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// blockedSigner returns a 403 RejectError when r is signed by a key of a
// host we do not federate with.
func (h *Handler) blockedSigner(ctx context.Context, r *http.Request) error {
	if !hasSignature(r) {
		return nil
	}
	signed, err := h.parseSignature(r, nil)
	if err != nil {
		return nil // not a signature we can read: the handler decides
	}
	_, err = h.hostAllowed(ctx, signed.KeyID())
	var rej *RejectError
	if errors.As(err, &rej) && rej.Status != http.StatusForbidden {
		return nil // a malformed key id: the handler decides
	}
	return err
}

// keyDocument is what an unsigned fetch of a community actor gets under
// authorized fetch: enough to verify the community's signatures and to
// reach its inbox, nothing of its content.
func (h *Handler) keyDocument(w http.ResponseWriter, r *http.Request, c storage.Community) error {
	g := streams.NewActivityStreamsGroup()
	actor := h.iris.Community(c.Name)
	id := streams.NewJSONLDIdProperty()
	id.Set(actor)
	g.SetJSONLDId(id)
	pu := streams.NewActivityStreamsPreferredUsernameProperty()
	pu.SetXMLSchemaString(c.Name)
	g.SetActivityStreamsPreferredUsername(pu)
	inbox := streams.NewActivityStreamsInboxProperty()
	inbox.SetIRI(h.iris.CommunityCollection(c.Name, "inbox"))
	g.SetActivityStreamsInbox(inbox)
	g.SetW3IDSecurityV1PublicKey(publicKeyProperty(h.iris.CommunityKey(c.Name), actor, c.PublicKeyPEM))
	setExt(g, termEndpoints, map[string]any{termSharedInbox: h.iris.SharedInbox().String()})
	return writeAS(w, r, g)
}

// hasSignature reports whether r carries a signature of either kind.
func hasSignature(r *http.Request) bool {
	return r.Header.Get("Signature") != "" || r.Header.Get("Signature-Input") != "" ||
		len(r.Header.Get("Authorization")) > len("Signature ") && r.Header.Get("Authorization")[:len("Signature ")] == "Signature "
}
