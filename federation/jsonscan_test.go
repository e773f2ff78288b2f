package federation

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"unicode/utf8"
)

// TestCheckDuplicateKeys (PAR-01): a repeated top-level key is refused
// however it is spelled or spaced; nested repeats and look-alikes in
// strings are not top-level keys.
func TestCheckDuplicateKeys(t *testing.T) {
	for _, tt := range []struct {
		body string
		ok   bool
	}{
		{`{"id":"a","type":"Create"}`, true},
		{`{"id":"a","id":"b"}`, false},
		{` {
		  "id" : "a" ,
		  "type" : [ 1 , { "id" : 2 } ] ,
		  "id" : null }`, false},
		{`{"id":"a","\u0069d":"b"}`, false},
		{`{"":1,"":2}`, false},
		{`{"o":{"id":1,"id":2}}`, true},
		{`{"s":"\",\"s\":1","t":"}"}`, true},
		{`{"n":-1.5e3 ,"t":true,"f":false,"z":null}`, true},
		{`{}`, true},
		{`[{"a":1,"a":2}]`, false},
		{`{"a":1`, false},
		{`{"a":1}x`, false},
		{"{\"a\":\"\xff\"}", false},
		{``, false},
	} {
		err := checkDuplicateKeys([]byte(tt.body))
		if (err == nil) != tt.ok {
			t.Errorf("checkDuplicateKeys(%s) = %v, want ok %v", tt.body, err, tt.ok)
		}
	}
}

// duplicateKeysByTokens is how checkDuplicateKeys decided before the scan
// (encoding/json's tokenizer), kept as the rule the scan must follow.
func duplicateKeysByTokens(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("not an object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if seen[key] {
			return errors.New("repeated")
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

// FuzzCheckDuplicateKeys: on valid JSON in valid UTF-8, the scan refuses
// exactly what the tokenizer did; anything else is refused.
func FuzzCheckDuplicateKeys(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","id":"b"}`, ` { "a" : [ 1 , "]" ] , "b" : { "a" : 1 } } `,
		`{"a":1,"\u0061":2}`, `{"s":"\\\"","n":0.5e-1}`, `[1]`, `"s"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := checkDuplicateKeys(body)
		if !json.Valid(body) || !utf8.Valid(body) {
			if got == nil {
				t.Fatalf("checkDuplicateKeys(%q) accepted invalid JSON or UTF-8", body)
			}
			return
		}
		if want := duplicateKeysByTokens(body); (got == nil) != (want == nil) {
			t.Fatalf("checkDuplicateKeys(%q) = %v, the tokenizer says %v", body, got, want)
		}
	})
}

// BenchmarkCheckDuplicateKeys: a real Mastodon Create{Note}, by the scan
// and by the tokenizer it replaced.
func BenchmarkCheckDuplicateKeys(b *testing.B) {
	body, err := os.ReadFile("testdata/activities/mastodon_create_note.json")
	if err != nil {
		b.Fatal(err)
	}
	for name, check := range map[string]func([]byte) error{"scan": checkDuplicateKeys, "tokens": duplicateKeysByTokens} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := check(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
