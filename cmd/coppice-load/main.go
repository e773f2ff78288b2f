// Command coppice-load measures how fast a real `coppice serve` ingests
// signed posts (issue 13's BM-1) and answers peers' GETs (BM-4) over HTTP.
//
//	coppice-load seed   --db FILE --posts 1000000 --communities 1000
//	coppice-load ingest --db FILE --coppice bin/coppice [--posts 3000] [--authors 20] [--conns 64] [--processes 1] [--cpuprofile FILE]
//	coppice-load read   --db FILE --coppice bin/coppice [--requests 20000] [--conns 64] [--authorized-fetch] [--cpuprofile FILE]
//	coppice-load fanout --db FILE --coppice bin/coppice [--followers 1000] [--hosts 100] [--processes 1] …
//	coppice-load flood  --db FILE --coppice bin/coppice [--requests 10000] [--conns 16]
//
// --db is an SQLite file or a postgres:// URL. With --processes N (N > 1,
// PostgreSQL only) ingest and fanout start N serve processes on the one
// database behind a small round-robin front whose address is the
// instance's base URL, and send the posts to the processes in turn (see
// cluster.go).
//
// seed fills a database quickly through storage.Seed (direct inserts, no
// rules, no HTTP). ingest starts `coppice serve` on that database as a
// child process, plays the remote host of the authors itself (it serves
// their actor documents, so the server fetches and verifies their keys
// for real), pre-signs every Create{Note} before the clock starts, sends
// them with many connections into one community whose posting policy is
// `anyone` and which has no followers, and prints accepted posts per
// second, latency percentiles, the server's CPU per post (from
// /proc/PID/stat) and the same run's pipeline floor. read starts the
// server the same way and GETs a community's Group actor and its outbox's
// first page in turn over many connections, unsigned or, with
// --authorized-fetch, signed by remote actors it serves, and prints
// requests per second, latency percentiles and the CPU per request of the
// server and of itself (they share the machine).
//
// It is a program of its own rather than a coppice subcommand so the
// production binary carries no load generator and no remote-host
// impersonation, and so the server it measures is a separate process
// whose CPU time is its own.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: coppice-load COMMAND [flags]

commands:
  seed    fill a database with posts (direct inserts through storage)
  ingest  start coppice serve on a database and send it signed posts over HTTP
  read    start coppice serve on a database and GET a community's actor and outbox over HTTP
  fanout  ingest's load into a community with followers on fake hosts, measuring the deliveries too
  restart start coppice serve on a database with a million queued deliveries, several times (FLT-13)
  flood   start coppice serve and send it unsigned POSTs, measuring the CPU per refusal (RAT-01)

Run "coppice-load COMMAND -h" for the flags of a command.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "seed":
		err = runSeed(ctx, args[1:], stdout, stderr)
	case "ingest":
		err = runIngest(ctx, args[1:], stdout, stderr)
	case "read":
		err = runRead(ctx, args[1:], stdout, stderr)
	case "fanout":
		err = runFanout(ctx, args[1:], stdout, stderr)
	case "restart":
		err = runRestart(ctx, args[1:], stdout, stderr)
	case "flood":
		err = runFlood(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "coppice-load:", err)
		return 1
	}
	return 0
}
