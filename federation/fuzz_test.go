package federation

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecodeActivity feeds arbitrary bytes to the first parser an inbox
// body meets: it must never panic, and what it accepts has one id, type and
// actor.
func FuzzDecodeActivity(f *testing.F) {
	files, _ := filepath.Glob("testdata/actors/*.json")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"id":"https://a.example/1","type":"Follow","actor":"https://a.example/u","object":"https://b.example/c/x"}`))
	f.Add([]byte(`{"id":"https://a.example/1","type":"Follow","actor":["https://a.example/u"],"actor":"x"}`))
	f.Add([]byte(`[[[[[[[[[[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		act, err := decodeActivity(b)
		if err != nil {
			return
		}
		if act.id == nil || act.typ == "" || act.actor == "" {
			t.Errorf("decodeActivity(%q) accepted %+v", b, act)
		}
	})
}

// FuzzParseResource feeds arbitrary WebFinger resources to the parser.
func FuzzParseResource(f *testing.F) {
	for _, s := range []string{"acct:seeds@coppice.example", "seeds@coppice.example:8443", "https://coppice.example/c/seeds", "acct:@x", "mailto:a@b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		user, host, u, err := parseResource(s)
		if err != nil {
			return
		}
		if u == nil && (user == "" || host == "" || strings.ContainsAny(user, ":/") || strings.ContainsAny(host, "@/?#")) {
			t.Errorf("parseResource(%q) = %q, %q", s, user, host)
		}
	})
}
