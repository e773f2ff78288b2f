// Package signature signs outgoing HTTP requests and verifies incoming ones
// for ActivityPub federation.
//
// Outgoing requests are signed with draft-cavage HTTP Signatures (version 12)
// the way Mastodon expects: rsa-sha256 over "(request-target) host date
// digest content-type" for POSTs and "(request-target) host date" for GETs,
// with a SHA-256 Digest of the body. See [Sign], and [Key] for a key that
// signs many requests (the delivery worker's), whose RSA is OpenSSL's.
//
// Incoming requests are checked in two steps, because the key is fetched in
// between. [Parse] reads the signature and checks everything that does not
// need the key: which headers or components are covered, the Digest or
// Content-Digest against the raw body, the Date or created/expires window and
// the signed host. [Signed.Verify] then checks the cryptographic signature
// with the public key the caller fetched for [Signed.KeyID]. Parse accepts
// draft-cavage signatures (Signature or Authorization header) and RFC 9421
// signatures (Signature-Input and Signature headers).
//
// go-fed/httpsig does the draft-cavage signing and RSA/Ed25519 verification,
// but it checks neither the Digest, the Date, nor which headers were signed;
// this package does those checks itself. RFC 9421 is implemented here with
// the standard library, for the subset ActivityPub peers use.
//
// Every rejection is an [*Error] whose Reason is short and safe to log and to
// return to the peer.
//
// The package knows nothing about communities, actors or ActivityStreams; it
// keeps no state and reads the time only from the clock it is given.
package signature
