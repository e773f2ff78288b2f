// Package delivery is the worker that sends queued activities: it claims
// due rows from the deliveries table and takes fan-outs (an activity for a
// community's followers), signs each POST with the key of the sending
// community, sends it, and records the outcome and what the attempt taught
// us about the remote host.
//
// # Fan-outs
//
// A fan-out is sent from memory (storage.Store.TakeFanOuts): its
// deliveries get no row unless an attempt is to be retried, fails, or is
// not made (the worker stops, or the host already has claimPerHost×PerHost
// deliveries in the backlog: those are queued as rows for the claims,
// which bound each host). Rows cost ~38 µs a delivery on the README's
// machine, a tenth of a delivery with its signature (issue 13). The writer
// records how far each fan-out's outcomes go and deletes the fan-out with
// its last outcome; a process that dies leaves its fan-outs leased, and
// whoever takes one next sends again only what was not recorded, so at
// worst an inbox gets the activity twice (SECURITY.md FLT-07).
//
// It does not decide what to deliver: internal/community enqueues rows in
// the same transaction as the state change that causes them, and the worker
// only reads the queue. It is plumbing, so it calls storage directly.
//
// # One delivering process
//
// A [Worker] assumes it is the only process delivering from its database:
// [Worker.Run] calls storage.Store.ReleaseClaims when it starts, so rows
// leased by a process that crashed are retried at once. Other processes (a
// CLI command while serve runs) may enqueue rows; the worker finds them
// within Options.Poll. Rows committed in the worker's own process are found
// at once when the committer calls [Worker.Wake].
//
// # Concurrency
//
// At most Options.Workers requests are in flight in the main lane (see
// below) and at most Options.PerHost per host. A claim leases a host at
// most twice PerHost rows, counting those already leased (a row stays
// leased until its outcome is written, shortly after its answer), so the
// host's next rows are at hand when a request ends; the worker's own
// per-host slots keep PerHost in flight, and a row whose host has none
// free waits in the backlog, not in a lane's slot. The worker
// claims up to Options.Batch rows ahead of free slots, so that it claims in
// large batches (a claim scans the due rows, which costs more as the queue
// grows), and starts each row as soon as a slot is free: one slow host
// never holds up the others (SECURITY.md FLT-05), its rows simply stay
// queued while its PerHost slots are busy.
//
// Signing is most of an attempt's CPU: at most twice GOMAXPROCS attempts sign at
// once, so that hundreds of attempts do not crowd out the inbox's handlers
// for no gain in speed. Each POST is signed for itself: the signature
// covers the request target, host, date and digest of that one request.
// The worker signs with a [signature.Key], whose RSA is OpenSSL's: ~0.3 ms
// for an RSA-2048 signature on our 2-core machine, where crypto/rsa takes
// ~0.8 ms, for the same bytes.
//
// Hosts that accept connections and never answer must not take the slots
// healthy hosts need (FLT-17): 300 of them, one request each, would fill
// every slot for a whole Timeout. So the slots are in two lanes. The main
// lane (Options.Workers) takes attempts at hosts that have not timed out;
// an attempt still without an answer after Options.SlowAfter (2s) moves
// to the slow lane (Options.SlowWorkers, default Workers), within
// Options.SlowTimeout (10s) in all, or is cut off, as a timeout, when that
// lane is full. Hosts whose last attempt timed out go to the slow lane
// directly, with the short timeout; when it is full their rows are put
// back with the backoff. Rows of hosts that answered their last attempt
// start first. At most Workers+SlowWorkers requests are in flight.
//
// A host that failed 10 times in a row (FLT-02: Mastodon's Stoplight
// threshold) is held back: its other deliveries are not sent but put back
// until the failed delivery's retry, which is the probe. A host that
// swallows connections thus costs a few timed-out requests per retry
// step, not PerHost slots for every row claimed for it (Mastodon #12445).
// A row put back this way, or because the host asked to wait, counts one
// more attempt although none was made.
//
// # Outcomes
//
//	2xx                     delivered; the row is deleted
//	404, 410                the inbox is gone; the row is deleted (logged at Warn)
//	429                     retried at the later of Retry-After (at most 24h) and
//	                        the backoff; the host gets nothing before Retry-After
//	                        (FLT-03); counts as a host failure, which carries the wait
//	401, 408                retried with backoff
//	other 4xx, 3xx          refused: this delivery fails, the host is not stalled (FLT-04)
//	5xx, network, timeout   retried with backoff; counts as a host failure (FLT-01, FLT-02, FLT-05)
//
// Redirects are not followed: the signature covers the host and path.
// A delivery queued more than Options.GiveUp ago (default 8 days) is given
// up and left in the failed state for the console (logged at Warn). Every
// attempt is logged at Debug.
//
// # Retry schedule
//
// The delay before the next attempt depends on how many attempts were made:
//
//	after attempt   delay
//	1               30s
//	2               1m
//	3               2m
//	4               5m
//	5               10m
//	6               20m
//	7               40m
//	8               1h
//	9               2h
//	10              4h
//	11              8h
//	12              12h
//	13 and later    24h, until the delivery is given up
//
// Each delay is jittered by ±15% so that deliveries failed together do not
// come back together. A retry that would fall after the give-up time is not
// scheduled: the delivery fails at once.
//
// # Host health
//
// Every attempt that reached a verdict about the host is recorded: an answer
// is a success and revives the host; a 5xx, network error or timeout is a
// failure. A host failing for 7 days with at least 10 failures in a row is
// marked unreachable, and new deliveries are no longer queued for it (FLT-06).
// Retries already queued for it go on with their schedule: they are the
// probes that revive it.
//
// # Writes
//
// Outcomes and host results are written by one goroutine in batches (every
// 50ms or 256 outcomes, one transaction each), so a fan-out of 10,000
// deliveries does not cost 10,000 commits. A failed write is logged and
// retried; an outcome is never dropped silently. At worst a delivery is sent
// twice: delivery is at least once, and receivers deduplicate by activity id.
//
// When the context given to Run ends, the worker stops claiming, lets the
// requests in flight finish (each bounded by Options.Timeout), writes their
// outcomes and returns. Rows claimed ahead but not started keep their lease
// until the next Run releases it.
package delivery
