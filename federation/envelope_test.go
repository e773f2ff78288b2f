package federation

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestWithoutContext: the top-level @context goes wherever it stands, with
// its comma; everything else stays, nested @contexts and strings that
// look like members included.
func TestWithoutContext(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"@context":"https://www.w3.org/ns/activitystreams","id":"x","n":1}`, `{"id":"x","n":1}`},
		{`{"id":"x","@context":["a",{"b":"c"}],"n":1}`, `{"id":"x","n":1}`},
		{`{"id":"x","n":1,"@context":{"@vocab":"a"}}`, `{"id":"x","n":1}`},
		{`{"@context":"a"}`, `{}`},
		{`{}`, `{}`},
		{`{"id":"x"}`, `{"id":"x"}`},
		{` { "id" : "x" ,
		    "@context" : "a" , "t" : [ true , null , -1.5e3 ] } `, `{"id":"x","t":[true,null,-1.5e3]}`},
		{`{"object":{"@context":"kept","s":"\"@context\":\"}]"},"@context":"a"}`, `{"object":{"@context":"kept","s":"\"@context\":\"}]"}}`},
		{`{"s":"a\\","@context":"a","n":0}`, `{"s":"a\\","n":0}`},
		{`{"n":12,"@context":"a"}`, `{"n":12}`},
		{`{"id":"x","\u0040context":"escaped key"}`, `{"id":"x"}`},
	} {
		got, err := withoutContext([]byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("withoutContext(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{``, `[]`, `"s"`, `12`, `{"a":}`, `{"a":1`, `{"a":1}x`} {
		if got, err := withoutContext([]byte(bad)); err == nil {
			t.Errorf("withoutContext(%s) = %s, want an error", bad, got)
		}
	}
}

// FuzzWithoutContext: for any JSON object without repeated keys (as
// the inbox takes them), the
// result is JSON whose members are the input's less @context.
func FuzzWithoutContext(f *testing.F) {
	for _, s := range []string{
		`{"@context":"a","id":"x"}`, `{"id":"x","@context":["a",{"b":"c"}]}`,
		`{"a":{"@context":1},"@context":{},"b":"\"}"}`, `{"s":"\\\\","n":-0.1e-2,"@context":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var want map[string]any
		if json.Unmarshal(in, &want) != nil || want == nil || checkDuplicateKeys(in) != nil {
			return
		}
		got, err := withoutContext(in)
		if err != nil {
			t.Fatalf("withoutContext(%s): %v", in, err)
		}
		var gotM map[string]any
		if err := json.Unmarshal(got, &gotM); err != nil {
			t.Fatalf("withoutContext(%s) = %s: not JSON: %v", in, got, err)
		}
		delete(want, "@context")
		if !reflect.DeepEqual(gotM, want) {
			t.Fatalf("withoutContext(%s) = %s, want the members %v", in, got, want)
		}
	})
}
