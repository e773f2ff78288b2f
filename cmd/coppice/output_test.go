package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// TestReportListStripsTerminalEscapes: a remote Flag whose objects and
// reason carry terminal escape sequences, a forged line and bidi overrides
// is listed as one harmless line (issue 11, bypass 6).
func TestReportListStripsTerminalEscapes(t *testing.T) {
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
	// The C1 control CSI as a character; SQLite also keeps it as a raw
	// byte, which PostgreSQL, taking only valid UTF-8 text, refuses (JSON
	// from the network never holds one: the decoder replaces it).
	reason := "spam \u202egnp.exe\u009b31m\rreal"
	if st.Engine() == "sqlite" {
		reason += "\x9b31m"
	}
	err = st.InTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.CreateReport(ctx, storage.Report{
			CommunityID: c.ID, IRI: "https://evil.example/flags/1", ReporterIRI: "https://evil.example/users/m\x1b[2J",
			Objects:   []string{"https://evil.example/notes/1\x1b]0;owned\x07", "https://evil.example/notes/2\n99\tforged\treport"},
			Reason:    reason,
			CreatedAt: time.Now(),
		})
		return err
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := coppice(t, "", "report", "list", "seeds", "--db", db)
	if code != 0 {
		t.Fatalf("report list: %d %s", code, errOut)
	}
	if strings.Count(out, "\n") != 1 || strings.Count(out, "\t") != 3 {
		t.Errorf("report list printed %q: want one line of four fields", out)
	}
	for _, bad := range []string{"\x1b", "\x07", "\r", "\u202e", "\x9b"} {
		if strings.Contains(out, bad) {
			t.Errorf("report list printed %q, with the control character %q", out, bad)
		}
	}
	if !strings.Contains(out, "https://evil.example/notes/1") || !strings.Contains(out, "real") {
		t.Errorf("report list lost the readable text: %q", out)
	}
}
