package federation

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestResolvedPostsReadAsWhole: a post resolved with only the properties
// noteFromAS reads (resolvePost) reads exactly as the whole object
// resolved by streams, for every real post object in testdata/posts
// (hashtags, emoji, mentions, attachments, replies collections, language
// maps, PeerTube's url lists and attributedTo pairs).
func TestResolvedPostsReadAsWhole(t *testing.T) {
	files, err := filepath.Glob("testdata/posts/*.json")
	if err != nil || len(files) < 20 {
		t.Fatalf("testdata/posts: %d files, %v", len(files), err)
	}
	mentioned := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := parseAS(context.Background(), raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want, wantAudience, wantErr := noteFromAS(whole, raw, "")
		part, err := parsePost(context.Background(), raw)
		if err != nil {
			t.Fatalf("%s: parsePost: %v", f, err)
		}
		got, gotAudience, gotErr := noteFromAS(part, raw, "")
		if (wantErr == nil) != (gotErr == nil) || !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotAudience, wantAudience) {
			t.Errorf("%s:\nresolved in part: %+v %q %v\nresolved whole:   %+v %q %v", f, got, gotAudience, gotErr, want, wantAudience, wantErr)
		}
		if p := whole.(objectLike).GetActivityStreamsTag(); p != nil {
			for it := p.Begin(); it != p.End(); it = it.Next() {
				if it.IsActivityStreamsMention() {
					mentioned++
				}
			}
		}
	}
	if mentioned < 5 {
		t.Errorf("only %d mentions in testdata/posts: the comparison does not cover them", mentioned)
	}
}

// TestResolvePostKeepsOnlyMentions: of a tag list, the Mentions reach
// noteFromAS's audience, whatever comes around them; a lone tag object
// counts too.
func TestResolvePostKeepsOnlyMentions(t *testing.T) {
	for _, tag := range []string{
		`[{"type":"Hashtag","href":"https://a.example/tags/x","name":"#x"},"https://a.example/iri",{"type":"Emoji","name":":e:","icon":{"type":"Image","url":"https://a.example/e.png"}},{"type":"Mention","href":"https://b.example/c/ours","name":"@ours@b.example"},{"type":"Mention"}]`,
		`{"type":"Mention","href":"https://b.example/c/ours"}`,
	} {
		raw := []byte(`{"type":"Note","id":"https://a.example/n/1","attributedTo":"https://a.example/u/1","content":"hi","tag":` + tag + `}`)
		p, err := parsePost(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		_, audience, err := noteFromAS(p, raw, "")
		if err != nil || !reflect.DeepEqual(audience, []string{"https://b.example/c/ours"}) {
			t.Errorf("tag %s: audience %q, %v; want the mentioned community only", tag, audience, err)
		}
	}
}

// BenchmarkResolvePost resolves a real Mastodon post (two hashtags, a
// mention, an emoji, a replies collection) as the inbox does, already
// decoded: whole is every property through streams, read only what
// noteFromAS reads (resolvePost).
func BenchmarkResolvePost(b *testing.B) {
	raw, err := os.ReadFile("testdata/posts/mobilizon-own_mastodon-status-5.json")
	if err != nil {
		b.Fatal(err)
	}
	m, err := decodeObject(raw)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("whole", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := toType(ctx, maps.Clone(m)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := resolvePost(ctx, m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
