package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestMastodonPostIsMastodonsShape: the post is valid JSON, begins with
// Mastodon's context, and carries the fields of Mastodon's real Create
// (shared/fixtures' create_note.json) besides the mention and hashtags.
func TestMastodonPostIsMastodonsShape(t *testing.T) {
	body := mastodonPost("http://127.0.0.1:4000/users/author3", "http://127.0.0.1:4000/users/author3/statuses/7", "2026-12-04T08:00:00Z", "http://127.0.0.1:5000/c/loadtest", 7)
	if !strings.HasPrefix(body, `{"@context":`+mastodonContext+`,`) {
		t.Fatalf("does not begin with Mastodon's context: %.120s", body)
	}
	var doc struct {
		Type   string `json:"type"`
		Object struct {
			Content    string            `json:"content"`
			ContentMap map[string]string `json:"contentMap"`
			AtomURI    string            `json:"atomUri"`
			Tag        []struct {
				Type, Href, Name string
			} `json:"tag"`
			Replies struct {
				First struct {
					PartOf string `json:"partOf"`
				} `json:"first"`
			} `json:"replies"`
		} `json:"object"`
		Signature struct {
			Type, SignatureValue string
		} `json:"signature"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	o := doc.Object
	kinds := map[string]int{}
	for _, tag := range o.Tag {
		kinds[tag.Type]++
	}
	if doc.Type != "Create" || !strings.Contains(o.Content, "Post 7 of the load run") || o.ContentMap["en"] != o.Content ||
		o.AtomURI == "" || o.Replies.First.PartOf == "" || kinds["Mention"] != 1 || kinds["Hashtag"] != 2 ||
		doc.Signature.Type != "RsaSignature2017" || len(doc.Signature.SignatureValue) != 344 {
		t.Errorf("not Mastodon's shape: %+v", doc)
	}
	if len(body) < 2000 {
		t.Errorf("%d bytes: smaller than Mastodon's", len(body))
	}
}
