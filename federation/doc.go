// Package federation is Coppice's ActivityPub door: WebFinger, host-meta,
// NodeInfo, actor documents, collections, inboxes and content negotiation,
// and the mapping between go-fed's streams vocabulary and our own types.
//
// It renders JSON only; HTML pages belong to package web. It changes state
// only by calling internal/community.
//
// # What we serve
//
// Each community is a Group actor at BASE/c/NAME with inbox, outbox,
// followers, featured (pinned threads), attributedTo (the moderators
// collection, as Lemmy does), endpoints.sharedInbox (BASE/inbox), publicKey
// (id ACTOR#main-key), manuallyApprovesFollowers, discoverable, Lemmy's
// postingRestrictedToMods and Mobilizon's members, discussions, resources and
// events collections. The instance itself is an Application actor at
// BASE/actor that signs outgoing fetches.
//
// Collections are OrderedCollections with totalItems and a first page;
// pages are BASE/…?page=N (OrderedCollectionPage with partOf, next, prev).
// Activities a community sends answer GET at their id
// (BASE/c/NAME/activities/ID).
//
// # What we accept
//
// The shared inbox (BASE/inbox) and every community inbox
// (BASE/c/NAME/inbox) run one pipeline, in this order:
//
//  1. Content-Type application/activity+json, application/ld+json or
//     application/json, uncompressed (415 otherwise); body at most 1 MiB (413).
//  2. An HTTP signature: draft-cavage (Signature or Authorization header,
//     rsa-sha256 or hs2019) or RFC 9421 (Signature-Input). It must cover
//     (request-target) or @method and the target, host, date (or created)
//     and the Digest or Content-Digest, which must match the raw body;
//     Date within 12 hours past and 1 hour ahead. 401 otherwise.
//  3. The key is fetched from keyId (signed GET by the instance actor,
//     cached for 24 hours, fetched again at most once a minute when the
//     signature fails, for key rotation). The key document's actor must own
//     the key. 401 otherwise; 503 when the key's host cannot be reached, so
//     the sender retries.
//  4. The body is one JSON object without repeated keys whose id, type and
//     actor are single values (400 otherwise); the actor must be the key's
//     owner (401) and the activity id on the actor's host (403).
//  5. The community layer handles it in one transaction together with the
//     deliveries it causes, and records the activity id: the same id twice
//     has one effect. Only then do we answer 202.
//
// Follow of a community: in join mode open we answer Accept{Follow} (the
// Follow embedded) to the follower's inbox; in approval mode the request
// waits for `coppice community approve|reject`, which sends Accept or
// Reject. Undo{Follow} by the follower removes it (403 for anyone else).
// Other activity types are kept as received and answered 202.
package federation
