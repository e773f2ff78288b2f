package main

import (
	"os"
	"testing"
)

// The fake hosts' scan reads the shape that decoding reads, on the
// Announces the server renders and on nested types that must not be
// taken for the activity's.
func TestScanShapeAgreesWithDecoding(t *testing.T) {
	t.Parallel()
	bodies := []string{
		`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://a.example/1","type":"Announce","actor":"https://a.example/c","object":"https://b.example/n/1"}`,
		`{"object":{"type":"Create","object":{"type":"Note","content":"a \"quoted\" } brace"}},"type":"Announce"}`,
		`{ "id" : "x" , "object" : [ "a", {"type":"Note"} ], "type" : "Like" }`,
		`{"type":"Accept","object":{"id":"https://a.example/f","type":"Follow"}}`,
	}
	raw, err := os.ReadFile("testdata/announce-activity.json")
	if err != nil {
		t.Fatal(err)
	}
	bodies = append(bodies, string(raw))
	for _, b := range bodies {
		want, err := decodeShape([]byte(b))
		if err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		got, err := scanShape([]byte(b))
		if err != nil || got != want {
			t.Errorf("scanShape(%s) = %+v, %v; want %+v", b, got, err, want)
		}
	}
	for _, bad := range []string{``, `[]`, `{"type":1}`, `{"id":"x"}`, `{"type":"Announce"`, `{"type":"Ann`} {
		if got, err := scanShape([]byte(bad)); err == nil {
			t.Errorf("scanShape(%q) = %+v, want an error", bad, got)
		}
	}
}
