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
//  1. At most 64 requests under way per client address (an IPv6 /64),
//     slow bodies included (503 with Retry-After beyond); behind a
//     --trusted-proxy the address is the one it puts in X-Forwarded-For.
//     Content-Type application/activity+json, application/ld+json or
//     application/json, uncompressed (415 otherwise); body at most 1 MiB (413),
//     read within 10 s before the request takes one of the in-flight slots
//     (503 with Retry-After when all are taken). At most 4 key fetches to
//     one host are under way at once, each within 10 s (503 beyond).
//  2. An HTTP signature: draft-cavage (Signature or Authorization header,
//     rsa-sha256 or hs2019) or RFC 9421 (Signature-Input). It must cover
//     (request-target) or @method and the target, host, date (or created)
//     and the Digest or Content-Digest, which must match the raw body;
//     Date within 12 hours past and 1 hour ahead. 401 otherwise.
//  3. The key is fetched from keyId (signed GET by the instance actor,
//     cached for 24 hours, fetched again at most once a minute when the
//     signature fails, for key rotation). The key document's actor must own
//     the key, and the key id must be on the actor's origin; a key id has
//     one owner, and a key is replaced only by fetching the key id again
//     (an Update of an actor never changes its key). The actor is stored
//     only once its key verified the request. 401 otherwise; 503 when the
//     key's host cannot be reached, so the sender retries; the 401 never
//     says what our fetch found. A key host may cause 30 key fetches at
//     once, then one every 2 s (429 with Retry-After beyond); a key id that
//     failed is answered 401 for 5 minutes, and the keys of a host that did
//     not answer 503 for a minute, without fetching again. The federation
//     policy applies to the key id's host before the fetch and to the
//     verified actor's host after it (403).
//  4. Rate limits on the verified signer: 20 activities at once per actor,
//     then one every 2 s; 300 at once per host, then 10 a second. Beyond
//     them 429 with Retry-After, before anything is stored.
//  5. The body is one JSON object without repeated keys whose id, type and
//     actor are single values (400 otherwise); the actor must be the key's
//     owner (401) and the activity id on the actor's host (403).
//  6. The community layer handles it in one transaction together with the
//     deliveries it causes, and records the activity id: the same id twice
//     has one effect. Only then do we answer 202.
//
// Per activity type (anything else is recorded by id, type and actor, with
// its body only up to 4 KiB, and answered 202):
//
//   - Follow of a community: Accept{Follow} (Follow embedded) in join mode
//     open; in approval mode the request waits for a moderator, who sends
//     Accept or Reject. A banned actor gets Reject. Undo{Follow} by the
//     follower removes it (403 for anyone else).
//   - Create of Note, Page, Article or Question: a post when it names the
//     community (to, cc, audience or a Mention) or replies into one of its
//     threads (missing parents are fetched, 20 deep). It must be public, by
//     a member allowed by the posting policy, with its id on the actor's
//     host and the actor as attributedTo. Announced to every follower as
//     Announce{Create} and Announce{object IRI}, with context = the thread
//     (FEP-7888) and audience = the community (FEP-1b12). A post with
//     #resource and a link is a resource proposal instead. A Note named
//     Going, Maybe or Not going replying to a meeting's poll is an RSVP.
//   - Update and Delete of a post by its author: applied and announced
//     (Announce{Update}, Announce{Delete}). Delete by a moderator of the
//     community is a removal; by anyone else 403. A deleted or removed
//     post's boost (Announce{object}) is withdrawn with Undo{Announce} of
//     the same id, for Mastodon, GoToSocial and the other microblog servers,
//     which ignore Announce{Delete}; its announces then answer 410.
//   - attributedTo may be a list (PeerTube: account and channel; Plume:
//     author and blog): the author is the entry that is the activity's
//     actor. Note, Page, Article, Question and Video are posts.
//   - Like, Dislike and their Undo: one vote per actor and post.
//   - Join, Leave, Accept, TentativeAccept, Reject of one of our Events
//     (Mobilizon, Friendica): RSVPs, one per actor, last wins; the Event and
//     its poll are sent again as Update with the counts.
//   - Accept or Reject of a Follow one of our communities sent (Group to
//     Group).
//   - Add{object, target: a community's resources collection} (Mobilizon):
//     a resource proposal.
//   - Flag: the community's moderation queue; forwarded to the instances of
//     its remote moderators. An actor may send 5 Flags at once, then one
//     every 2 minutes (429 with Retry-After beyond); a Flag naming only
//     objects its actor has open reports on is recorded and makes no new
//     report.
//   - Lock and Undo{Lock} (Lemmy) by a moderator: the thread is locked.
//
// # What we send
//
// All as the community's Group actor, signed with its key: Accept/Reject of
// Follows; the Announces above; Add/Remove on featured (pin), Lock/Undo{Lock},
// Delete (moderator removal); Undo{Announce} (a boost withdrawn after a
// deletion or removal); Add/Remove on moderators (role changes);
// Block{target: community} and Undo (bans); Create{Page|Document} and Add to
// resources, Remove (archive); Create/Update{Event} and {Question} (meetings
// and their RSVP polls); Update{Group} (profile and rules); Follow of
// another community; Announce with origin (a broker's share); Flag (report
// forwarding). Fetches are signed by the instance's Application actor.
//
// The instance's Application actor also sends one kind of activity: the
// direct message that carries a member's sign-in link, a Create{Note}
// addressed to that one actor (to: the actor, no public, no followers, a
// Mention of it), delivered to its inbox. Neither the Create nor the Note
// is served at its id (404). To sign members in we also WebFinger their
// handle (acct:name@host, and the actor's own host when it differs) and,
// for servers that speak the Mastodon client API, call POST /api/v1/apps
// once, /oauth/authorize (in the browser), /oauth/token and
// GET /api/v1/accounts/verify_credentials (scope read:accounts).
package federation
