// Package fetch makes the outgoing HTTP requests of a Coppice instance safe.
//
// [NewClient] builds the one *http.Client of the process for fetches, and
// [NewPoster] the [Poster] that sends its deliveries; both guard every
// request alike. Their dialer checks the resolved IP address of every connection,
// at dial time, against the IANA special-purpose address registries
// (loopback, private, link-local, shared, documentation, multicast, …), so
// a name that resolves to a private address, a DNS rebinding and a redirect
// to a private address are all refused (SECURITY.md row 4, FET-01..FET-03).
// Before dialing, every request URL, redirects included, goes through
// [CheckURL]: only https (and http with AllowPrivate), no user info, no
// literal private address, no "localhost", no numeric host that is not a
// canonical IP address (http://2130706433/). Then the host, normalized,
// goes through the instance's federation policy (Options.Policy), so a
// delivery or fetch never reaches a blocked host, whatever inbox or URL a
// peer named (FET-13). Neither uses a proxy: the proxy's address
// would be checked instead of the peer's.
//
// [Fetcher] GETs ActivityStreams documents, signed by the instance actor,
// and returns their bytes. It knows nothing about communities or
// ActivityStreams types. A document is returned only when:
//
//   - the status is 200;
//   - the Content-Type is application/activity+json or application/ld+json
//     (with any parameters). application/json is refused on purpose: peers
//     and object stores serve user uploads as application/json, and
//     accepting it let an uploaded file pass as an actor of the host
//     (CVE-2024-25636, ORI-06);
//   - the body, after any decompression, is at most MaxBytes (1 MiB by
//     default, FET-05, FET-06);
//   - it arrives within the client's Timeout, body included (FET-07);
//   - its top-level "id" is the URL finally fetched, after redirects,
//     compared by scheme, host, port, path and query (not fragment). When
//     the id is another document on the origin of the requested URL, that id
//     is fetched once more and must name itself; an id on any other origin
//     is refused (CVE-2024-23832, ORI-04, ORI-05).
//
// Hosts are compared case-insensitively (ASCII only) and otherwise exactly:
// "a.example." and "a.example" are different origins here.
//
// Every failure is an [*Error] whose [Kind] tells callers how to answer:
// KindUnreachable is worth retrying (an inbox answers 503), KindNotFound
// means the document is gone, KindInvalid means the peer sent something we
// refuse, and KindForbidden means we refused to send the request at all.
package fetch
