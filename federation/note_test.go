package federation

import (
	"context"
	"testing"
)

// TestAuthorOfAttributedToLists pins how the author of a post is picked
// when attributedTo names several actors (PeerTube: account and channel;
// Plume: author and blog; Lemmy: author and community).
func TestAuthorOfAttributedToLists(t *testing.T) {
	const alice, blog, bob = "https://blog.example/@/alice/", "https://blog.example/~/Notes/", "https://blog.example/@/bob/"
	tests := []struct {
		name, attributedTo, actor, want string
	}{
		{"one IRI", `"` + alice + `"`, alice, alice},
		{"author and blog, by the author", `["` + alice + `","` + blog + `"]`, alice, alice},
		{"blog and author, by the author", `["` + blog + `","` + alice + `"]`, alice, alice},
		{"account and channel typed, by the account", `[{"type":"Person","id":"` + alice + `"},{"type":"Group","id":"` + blog + `"}]`, alice, alice},
		{"account and channel typed, fetched without an activity", `[{"type":"Person","id":"` + alice + `"},{"type":"Group","id":"` + blog + `"}]`, "", alice},
		{"one Person among other typed actors", `[{"type":"Person","id":"` + alice + `"},{"type":"Organization","id":"` + blog + `"}]`, "", alice},
		{"two IRIs, by neither", `["` + alice + `","` + blog + `"]`, bob, ""},
		{"two IRIs, fetched without an activity", `["` + alice + `","` + blog + `"]`, "", ""},
		{"empty list", `[]`, alice, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"Article","id":"https://blog.example/~/Notes/a/","attributedTo":` + tt.attributedTo + `}`)
			obj, err := parseAS(context.Background(), raw)
			if err != nil {
				t.Fatal(err)
			}
			n, _, err := noteFromAS(obj, raw, tt.actor)
			if tt.want == "" {
				if err == nil {
					t.Errorf("noteFromAS(attributedTo %s, actor %q) = author %q, want an error", tt.attributedTo, tt.actor, n.AuthorIRI)
				}
				return
			}
			if err != nil || n.AuthorIRI != tt.want {
				t.Errorf("noteFromAS(attributedTo %s, actor %q) = %q, %v; want %q", tt.attributedTo, tt.actor, n.AuthorIRI, err, tt.want)
			}
		})
	}
}
