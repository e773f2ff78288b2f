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
package federation
