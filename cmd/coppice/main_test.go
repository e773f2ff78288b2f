package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// coppice runs the command line in-process and returns its exit code and
// output.
func coppice(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startServe runs `coppice serve` until the returned stop function is called.
func startServe(t *testing.T, args ...string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var logs bytes.Buffer
	go func() { done <- run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), io.Discard, &logs) }()
	var addr string
	for i, a := range args {
		if a == "--listen" {
			addr = args[i+1]
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited with %d before it was ready", code)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("serve not ready after 30s")
		}
	}
	return func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited with %d", code)
		}
	}
}

func fetchActor(t *testing.T, addr, name string) (string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/c/"+name, nil)
	req.Header.Set("Accept", "application/activity+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET actor: %d %v", res.StatusCode, err)
	}
	a, err := federation.ParseActor(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return a.IRI, a.PublicKeyPEM
}

// TestRestartKeepsActorAndKey creates a community, serves it, stops, serves
// again and checks the actor and its key are the same.
func TestRestartKeepsActorAndKey(t *testing.T) {
	db := storagetest.DB(t)
	if code, _, errOut := coppice(t, "", "community", "create", "seedbreeders", "--title", "Seed breeders", "--summary", "Seeds.", "--db", db); code != 0 {
		t.Fatalf("community create: exit %d: %s", code, errOut)
	}
	addr := freeAddr(t)
	base := "http://" + addr
	stop := startServe(t, "--listen", addr, "--base-url", base, "--db", db)
	iri1, key1 := fetchActor(t, addr, "seedbreeders")
	stop()
	stop = startServe(t, "--listen", addr, "--base-url", base, "--db", db)
	iri2, key2 := fetchActor(t, addr, "seedbreeders")
	stop()
	if iri1 != base+"/c/seedbreeders" || iri1 != iri2 {
		t.Errorf("actor IRI %q then %q, want %s/c/seedbreeders both times", iri1, iri2, base)
	}
	if key1 == "" || key1 != key2 {
		t.Errorf("key changed across restart:\n%s\n%s", key1, key2)
	}
}

func TestCommunityCreate(t *testing.T) {
	db := storagetest.DB(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"creates", []string{"community", "create", "seeds", "--title", "Seeds", "--summary", "S", "--db", db}, 0, "created community seeds"},
		{"flags before the name", []string{"community", "create", "--title", "Soil", "--db", db, "--join", "approval", "soil"}, 0, "created community soil"},
		{"duplicate", []string{"community", "create", "seeds", "--title", "Seeds", "--db", db}, 1, "exists already"},
		{"bad name", []string{"community", "create", "Bad Name", "--title", "X", "--db", db}, 1, "name:"},
		{"no title", []string{"community", "create", "notitle", "--db", db}, 1, "title: required"},
		{"bad join mode", []string{"community", "create", "x1", "--title", "X", "--join", "sometimes", "--db", db}, 1, "join:"},
		{"no name", []string{"community", "create", "--title", "X", "--db", db}, 2, "exactly one NAME"},
		{"unknown flag", []string{"community", "create", "x2", "--colour", "red", "--db", db}, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := coppice(t, "", tt.args...)
			if code != tt.wantCode || !strings.Contains(out+errOut, tt.wantOut) {
				t.Errorf("coppice %v = %d %q %q, want %d and %q", tt.args, code, out, errOut, tt.wantCode, tt.wantOut)
			}
		})
	}
	code, out, _ := coppice(t, "", "community", "list", "--db", db)
	if code != 0 || out != "seeds\topen\tSeeds\nsoil\tapproval\tSoil\n" {
		t.Errorf("community list = %d %q", code, out)
	}
}

func TestEnvironmentVariables(t *testing.T) {
	db := filepath.Join(t.TempDir(), "env.db")
	env := map[string]string{"COPPICE_DB": db, "COPPICE_LISTEN": "127.0.0.1:1", "COPPICE_INSECURE_FEDERATION": "1"}
	fs := newFlagSet("test")
	var gotDB, gotListen string
	var insecure bool
	fs.StringVar(&gotDB, "db", "./coppice.db", "")
	fs.StringVar(&gotListen, "listen", "", "")
	fs.BoolVar(&insecure, "insecure-federation", false, "")
	if _, err := parse(fs, []string{"--listen", "127.0.0.1:2"}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if gotDB != db || !insecure {
		t.Errorf("from environment: db %q insecure %v, want %q true", gotDB, insecure, db)
	}
	if gotListen != "127.0.0.1:2" {
		t.Errorf("listen = %q, want the flag to win over COPPICE_LISTEN", gotListen)
	}
	if envName("base-url") != "COPPICE_BASE_URL" || envName("insecure-federation") != "COPPICE_INSECURE_FEDERATION" {
		t.Errorf("envName gives %s and %s", envName("base-url"), envName("insecure-federation"))
	}
	if _, err := parse(newBoolSet(), nil, func(string) string { return "maybe" }); err == nil {
		t.Errorf("COPPICE_X=maybe for a bool flag parsed without error")
	}
}

func newBoolSet() *flag.FlagSet {
	fs := newFlagSet("b")
	fs.Bool("x", false, "")
	return fs
}

func TestAdminCreate(t *testing.T) {
	db := storagetest.DB(t)
	if code, out, errOut := coppice(t, "correct horse battery\n", "admin", "create", "ada", "--db", db); code != 0 || !strings.Contains(out, "created admin ada") {
		t.Fatalf("admin create: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := coppice(t, "another long password\n", "admin", "create", "ada", "--db", db); code != 1 || !strings.Contains(errOut, "exists already") {
		t.Errorf("duplicate admin: %d %q", code, errOut)
	}
	if code, _, errOut := coppice(t, "short\n", "admin", "create", "bob", "--db", db); code != 1 || !strings.Contains(errOut, "password") {
		t.Errorf("short password: %d %q", code, errOut)
	}
	if code, _, _ := coppice(t, "", "admin", "create", "bob", "--db", db); code != 2 {
		t.Errorf("no password on stdin: exit %d, want 2", code)
	}
}

func TestMigrateAndUsage(t *testing.T) {
	db := storagetest.DB(t)
	code, out, _ := coppice(t, "", "migrate", "--db", db)
	if code != 0 || !strings.Contains(out, "schema version") {
		t.Errorf("migrate = %d %q", code, out)
	}
	if code, _, _ := coppice(t, ""); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
	if code, _, _ := coppice(t, "", "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	if code, _, errOut := coppice(t, "", "serve", "--base-url", "ftp://x", "--db", db); code != 2 || !strings.Contains(errOut, "scheme") {
		t.Errorf("serve with ftp base URL: %d %q", code, errOut)
	}
}

// TestThreadCommands pins, locks and removes a thread from the command line.
func TestThreadCommands(t *testing.T) {
	ctx := context.Background()
	db := storagetest.DB(t)
	if code, _, errOut := coppice(t, "", "community", "create", "seeds", "--title", "Seeds", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	st, err := storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := st.CommunityByName(ctx, "seeds")
	var th storage.Thread
	err = st.InTx(ctx, func(tx *storage.Tx) error {
		var err error
		th, err = tx.CreateThread(ctx, storage.Thread{CommunityID: c.ID, RootIRI: "https://a.example/notes/1", Title: "Tomatoes", AuthorIRI: "https://a.example/users/alice", CreatedAt: time.Now()})
		if err != nil {
			return err
		}
		_, err = tx.CreatePost(ctx, storage.Post{IRI: "https://a.example/notes/1", ThreadID: th.ID, CommunityID: c.ID, Type: "Note", AuthorIRI: "https://a.example/users/alice", Published: time.Now(), Raw: []byte("{}")})
		return err
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	base := "http://coppice.test"
	page := base + "/c/seeds/threads/" + strconv.FormatInt(th.ID, 10)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"thread", "pin", page}, "pinned=true locked=false removed=false"},
		{[]string{"thread", "lock", "https://a.example/notes/1"}, "pinned=true locked=true removed=false"},
		{[]string{"thread", "unlock", page}, "pinned=true locked=false removed=false"},
		{[]string{"thread", "remove", page}, "pinned=false locked=false removed=true"},
	}
	for _, tt := range tests {
		code, out, errOut := coppice(t, "", append(tt.args, "--db", db, "--base-url", base)...)
		if code != 0 || !strings.Contains(out, tt.want) {
			t.Errorf("coppice %v = %d %q %q, want %q", tt.args, code, out, errOut, tt.want)
		}
	}
	if code, _, _ := coppice(t, "", "thread", "explode", page, "--db", db); code != 2 {
		t.Errorf("unknown action: exit %d, want 2", code)
	}
	if code, _, _ := coppice(t, "", "thread", "pin", "https://a.example/notes/404", "--db", db); code != 1 {
		t.Errorf("unknown post: exit %d, want 1", code)
	}
	st, err = storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.CountListedActivities(ctx, c.ID)
	if err != nil || n != 4 {
		t.Errorf("outbox has %d activities, %v; want 4 (Add, Lock, Undo Lock, Delete)", n, err)
	}
}

func TestCommunitySet(t *testing.T) {
	db := storagetest.DB(t)
	if code, _, errOut := coppice(t, "", "community", "create", "seeds", "--title", "Seeds", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := coppice(t, "", "community", "set", "seeds", "--posting", "anyone", "--boost-replies=false", "--db", db)
	if code != 0 || out != "seeds: posting anyone, boost replies false\n" {
		t.Errorf("community set = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := coppice(t, "", "community", "set", "seeds", "--posting", "everyone", "--db", db); code != 1 || !strings.Contains(errOut, "posting") {
		t.Errorf("bad posting policy: %d %q", code, errOut)
	}
}

// TestResourceAndMeetingCommands drives the repertoire from the command
// line, including uploads that must be refused (CON-03, CON-04).
func TestResourceAndMeetingCommands(t *testing.T) {
	dir := t.TempDir()
	db, data := storagetest.DB(t), filepath.Join(dir, "data")
	if code, _, errOut := coppice(t, "", "community", "create", "seeds", "--title", "Seeds", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	if err := os.WriteFile(filepath.Join(dir, "guide.pdf"), []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	html := filepath.Join(dir, "photo.jpg")
	if err := os.WriteFile(html, []byte("<html><script>alert(1)</script></html>"), 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"--db", db, "--data", data, "--base-url", "http://coppice.test"}
	code, out, errOut := coppice(t, "", append([]string{"resource", "add", "seeds", "--kind", "document", "--title", "Isolation guide", "--file", filepath.Join(dir, "guide.pdf"), "--tags", "tomatoes, isolation"}, common...)...)
	if code != 0 || !strings.HasPrefix(out, "published http://coppice.test/c/seeds/resources/") {
		t.Fatalf("resource add --file: %d %q %q", code, out, errOut)
	}
	if code, _, _ := coppice(t, "", append([]string{"resource", "add", "seeds", "--kind", "document", "--title", "Disguised", "--file", html}, common...)...); code == 0 {
		t.Errorf("HTML named photo.jpg was accepted")
	}
	var files []string
	_ = filepath.WalkDir(data, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 1 || !strings.HasSuffix(files[0], ".pdf") {
		t.Errorf("files under the data directory = %v, want the one PDF, named by its hash", files)
	}
	code, out, _ = coppice(t, "", "resource", "list", "seeds", "--db", db)
	if code != 0 || !strings.Contains(out, "Isolation guide") {
		t.Errorf("resource list = %d %q", code, out)
	}
	code, out, errOut = coppice(t, "", append([]string{"meeting", "create", "seeds", "--title", "Swap", "--start", "2026-12-01T15:00", "--end", "2026-12-01T16:30",
		"--timezone", "Europe/Berlin", "--place", "Community hall", "--repeat", "FREQ=MONTHLY;BYDAY=1TU"}, "--db", db, "--base-url", "http://coppice.test")...)
	if code != 0 || !strings.HasPrefix(out, "scheduled http://coppice.test/c/seeds/events/") {
		t.Fatalf("meeting create: %d %q %q", code, out, errOut)
	}
	iri := strings.TrimSpace(strings.TrimPrefix(out, "scheduled "))
	if code, out, errOut := coppice(t, "", "meeting", "update", iri, "--title", "Swap (new room)", "--start", "2026-12-01T16:00", "--end", "2026-12-01T17:30",
		"--timezone", "Europe/Berlin", "--place", "Room 2", "--db", db, "--base-url", "http://coppice.test"); code != 0 || !strings.Contains(out, "updated") {
		t.Errorf("meeting update: %d %q %q", code, out, errOut)
	}
	if code, out, _ := coppice(t, "", "meeting", "cancel", iri, "--db", db); code != 0 || !strings.Contains(out, "cancelled") {
		t.Errorf("meeting cancel: %d %q", code, out)
	}
	for _, bad := range [][]string{
		{"--start", "tomorrow", "--end", "2026-12-01T16:30", "--timezone", "UTC"},
		{"--start", "2026-12-01T15:00", "--end", "2026-12-01T14:00", "--timezone", "UTC"},
		{"--start", "2026-12-01T15:00", "--end", "2026-12-01T16:00", "--timezone", "Mars/Olympus"},
		{"--start", "2026-12-01T15:00", "--end", "2026-12-01T16:00", "--timezone", "UTC", "--repeat", "FREQ=SOMETIMES"},
	} {
		if code, _, _ := coppice(t, "", append([]string{"meeting", "create", "seeds", "--title", "X", "--db", db}, bad...)...); code == 0 {
			t.Errorf("meeting create %v succeeded", bad)
		}
	}
}

func TestBackup(t *testing.T) {
	dir := t.TempDir()
	db := storagetest.DB(t)
	if code, _, errOut := coppice(t, "", "community", "create", "seeds", "--title", "Seeds", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	copyPath := filepath.Join(dir, "copy.db")
	if code, out, errOut := coppice(t, "", "backup", copyPath, "--db", db); code != 0 || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: %d %q %q", code, out, errOut)
	}
	code, out, _ := coppice(t, "", "community", "list", "--db", copyPath)
	if code != 0 || !strings.Contains(out, "seeds") {
		t.Errorf("the copy lists %q, want the community", out)
	}
	if code, _, _ := coppice(t, "", "backup", copyPath, "--db", db); code != 1 {
		t.Errorf("backup over an existing file: exit %d, want 1", code)
	}
}
