package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coppice-dev/coppice/storage/storagetest"
	"time"
)

func TestWikiAndDecisionCommands(t *testing.T) {
	dir := t.TempDir()
	db := storagetest.DB(t)
	if code, _, errOut := coppice(t, "", "community", "create", "seeds", "--title", "Seeds", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	page := filepath.Join(dir, "page.md")
	if err := os.WriteFile(page, []byte("# Rye\n\nSow in autumn.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "--base-url=http://coppice.test"
	code, out, errOut := coppice(t, "", "wiki", "edit", "seeds", "rye", "--title", "Rye", "--file", page, "--summary", "start", "--db", db, base)
	if code != 0 || !strings.Contains(out, "http://coppice.test/c/seeds/wiki/rye revision 1") {
		t.Fatalf("wiki edit = %d %q %q", code, out, errOut)
	}
	if err := os.WriteFile(page, []byte("# Rye\n\nSow in autumn, thinly.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := coppice(t, "", "wiki", "edit", "seeds", "rye", "--file", page, "--db", db, base); code != 0 || !strings.Contains(out, "revision 2") {
		t.Fatalf("second wiki edit = %d %q %q", code, out, errOut)
	}
	code, out, _ = coppice(t, "", "wiki", "history", "seeds", "rye", "--db", db)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, "cli:cli") {
		t.Errorf("wiki history = %d %q", code, out)
	}
	if code, out, errOut := coppice(t, "", "wiki", "revert", "seeds", "rye", "1", "--db", db, base); code != 0 || !strings.Contains(out, "as revision 3") {
		t.Errorf("wiki revert = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := coppice(t, "", "wiki", "edit", "seeds", "Bad Slug", "--title", "x", "--file", page, "--db", db); code != 2 || !strings.Contains(errOut, "slug") {
		t.Errorf("wiki edit with a bad slug = %d %q, want 2 and a message about the slug", code, errOut)
	}

	closes := time.Now().Add(72 * time.Hour).In(time.UTC).Format("2006-01-02T15:04")
	code, out, errOut = coppice(t, "", "decision", "open", "seeds", "--question", "Spring meeting?", "--option", "Rome", "--option", "Turin",
		"--closes", closes, "--timezone", "UTC", "--db", db, base)
	if code != 0 || !strings.HasPrefix(out, "opened http://coppice.test/c/seeds/decisions/") {
		t.Fatalf("decision open = %d %q %q", code, out, errOut)
	}
	iri := strings.TrimSpace(strings.TrimPrefix(out, "opened "))
	if code, out, _ := coppice(t, "", "decision", "list", "seeds", "--db", db); code != 0 || !strings.Contains(out, iri+"\topen\tSpring meeting?") {
		t.Errorf("decision list = %d %q", code, out)
	}
	if code, out, errOut := coppice(t, "", "decision", "close", iri, "--db", db, base); code != 0 || !strings.Contains(out, "Rome 0, Turin 0; 0 voted") {
		t.Errorf("decision close = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := coppice(t, "", "decision", "open", "seeds", "--question", "One?", "--option", "Only", "--closes", closes, "--db", db); code != 2 || !strings.Contains(errOut, "options") {
		t.Errorf("decision with one option = %d %q, want 2", code, errOut)
	}
}
