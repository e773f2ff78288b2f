// Command coppice runs a Coppice instance and administers it: serve,
// community, admin, migrate, backup and migrate-data subcommands, on an
// SQLite file or a PostgreSQL database. Every flag also reads an
// environment variable: --base-url reads COPPICE_BASE_URL.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is reported by NodeInfo and --version.
const version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: coppice COMMAND [flags]

commands:
  serve                       run the server
  community create NAME --title T --summary S [--join open|approval]
  community list
  community set NAME [--posting members|anyone|moderators] [--boost-replies=false]
  community held NAME                    posts waiting for a moderator (posting moderators)
  community review NAME ID approve|reject [--by NAME]
  community requests NAME
  community approve|reject NAME ACTOR      (ACTOR: actor URL or @name@host)
  thread pin|unpin|lock|unlock|remove URL  (a thread page or post URL)
  resource add COMMUNITY --title T (--url U | --file F) [--kind link|document|story|tool|method] [--tags a,b] [--description D]
  resource list COMMUNITY [--state proposed|published|archived]
  resource publish|archive URL
  meeting create COMMUNITY --title T --start 2026-12-01T15:00 --end … --timezone Europe/Berlin [--online URL | --place P] [--repeat RRULE]
  meeting update URL --title T --start … --end … --timezone … (all details again)
  meeting cancel URL
  member list COMMUNITY | member role COMMUNITY ACTOR owner|moderator|broker|member
  member ban|unban COMMUNITY ACTOR [--reason R]
  report list COMMUNITY | report resolve ID dismiss|remove|ban
  community follow NAME COMMUNITY_URL [--insecure-federation]   (a Group → Group follow)
  broker share TARGET OBJECT_URL --by ACTOR [--from SOURCE_COMMUNITY_URL]
  wiki edit COMMUNITY SLUG --title T --file F [--summary S] | wiki history COMMUNITY SLUG | wiki revert COMMUNITY SLUG REVISION
  decision open COMMUNITY --question Q --option A --option B [--option …] --closes 2026-12-20T18:00 --timezone Europe/Rome [--multiple]
  decision close URL | decision list COMMUNITY
  federation allow|block|silence|reject-media|unset HOST | federation mode open|allowlist | federation list
  admin create USERNAME       (password read from standard input)
  migrate                     apply database migrations
  backup FILE                 write a consistent copy of the database into a new SQLite file
  restore FILE                put a backup in place of the SQLite database (not while serve runs)
  migrate-data --from FILE.db --to postgres://…   copy an SQLite instance into an empty PostgreSQL database
  version                     print the version

Every command that touches the database takes --db: the path of an SQLite
file (the default, ./coppice.db) or a postgres:// URL. Run "coppice COMMAND
-h" for the flags of a command. Every flag also reads an environment
variable: --base-url reads COPPICE_BASE_URL.
`

// run is main without the process: tests call it directly. It returns the
// exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	env := os.Getenv
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], env, stderr)
	case "community":
		err = runCommunity(ctx, args[1:], env, stdout)
	case "admin":
		err = runAdmin(ctx, args[1:], env, stdin, stdout)
	case "migrate":
		err = runMigrate(ctx, args[1:], env, stdout)
	case "backup":
		err = runBackup(ctx, args[1:], env, stdout)
	case "restore":
		err = runRestore(ctx, args[1:], env, stdout)
	case "migrate-data":
		err = runMigrateData(ctx, args[1:], env, stdout)
	case "thread":
		err = runThread(ctx, args[1:], env, stdout)
	case "resource":
		err = runResource(ctx, args[1:], env, stdout)
	case "meeting":
		err = runMeeting(ctx, args[1:], env, stdout)
	case "member":
		err = runMember(ctx, args[1:], env, stdout)
	case "report":
		err = runReport(ctx, args[1:], env, stdout)
	case "federation":
		err = runFederation(ctx, args[1:], env, stdout)
	case "broker":
		err = runBroker(ctx, args[1:], env, stdout)
	case "wiki":
		err = runWiki(ctx, args[1:], env, stdout)
	case "decision":
		err = runDecision(ctx, args[1:], env, stdout)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "coppice", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "coppice: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err == nil {
		return 0
	}
	if uerr, ok := err.(usageError); ok {
		fmt.Fprintf(stderr, "coppice: %v\n", uerr.err)
		return 2
	}
	fmt.Fprintf(stderr, "coppice: %v\n", err)
	return 1
}

// usageError is a mistake on the command line (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
