package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"plain name unchanged", "Jean-Luc Picard", 0, "Jean-Luc Picard"},
		{"tags stripped", `<b>Bold</b> <a href="https://a.example/">name</a>`, 0, "Bold name"},
		{"blocks and breaks become spaces", "<p>one</p><p>two<br>three</p>", 0, "one two three"},
		{"script and style content dropped", "a<script>alert(1)</script><style>p{}</style>b", 0, "ab"},
		{"self-closing script content dropped", "a<script/>alert(1)</script>b", 0, "ab"},
		{"entities decoded", "Tom &amp; Jerry &lt;3 &#x1F600; caf&eacute;", 0, "Tom & Jerry <3 😀 café"},
		{"escaped markup stays text", "&lt;script&gt;", 0, "<script>"},
		{"control characters removed", "a\x00b\x07c\x1bd\u0085e&#1;f", 0, "abcdef"},
		{"invalid UTF-8 replaced", "a\xffb", 0, "a\uFFFDb"},
		{"white space collapsed and trimmed", " \t a \n\n b \r\n ", 0, "a b"},
		{"Lotide summary with CRLF", "This is for talking about lotide\r\n\r\n\r\nI accidentally", 0, "This is for talking about lotide I accidentally"},
		{"cut with an ellipsis", "abcdefghij", 5, "abcd…"},
		{"cut counts runes, not bytes", "ééééé", 3, "éé…"},
		{"no cut at the limit", "abcde", 5, "abcde"},
		{"no limit", strings.Repeat("a", 300), 0, strings.Repeat("a", 300)},
		{"limit of one", "abc", 1, "…"},
		{"empty", "", 10, ""},
		{"only markup", "<p><br></p>", 10, ""},
	}
	p := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Text(tt.in, tt.max); got != tt.want {
				t.Errorf("Text(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func TestTextCutsLongName(t *testing.T) {
	// CON-02: a 10 KB name with markup ends up as at most max runes of text.
	in := strings.Repeat("<b>name</b> ", 1000)
	got := New().Text(in, 100)
	if n := utf8.RuneCountInString(got); n != 100 {
		t.Errorf("Text(10 KB name, 100) has %d runes, want 100", n)
	}
	if !strings.HasSuffix(got, "…") || strings.Contains(got, "<") {
		t.Errorf("Text(10 KB name, 100) = %q, want plain text ending in …", got)
	}
}

func TestFirstLine(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"Mastodon reply starting with a mention", "@alice hello world<br>second line", 0, "hello world"},
		{"Mastodon reply with an h-card mention", `<p><span class="h-card"><a href="https://a.example/@alice" class="u-url mention">@<span>alice</span></a></span> hello world<br>second line</p>`, 0, "hello world"},
		{"several mentions with punctuation", "@alice@a.example, @bob: hi there", 0, "hi there"},
		{"Lemmy post", "<p>Title text</p><p>more</p>", 0, "Title text"},
		{"heading first", "<h2>Heading</h2><p>body</p>", 0, "Heading"},
		{"leading empty paragraphs skipped", "<p></p><p> </p>\n<p>text</p>", 0, "text"},
		{"mention alone on its own line", "<p>@kde@lemmy.kde.social </p><p>We also need funding</p>", 0, "We also need funding"},
		{"mention inside the line kept", "hello @alice", 0, "hello @alice"},
		{"email address is not a mention", "a@example.org wrote", 0, "a@example.org wrote"},
		{"long line cut at a word boundary", "The quick brown fox jumps over the lazy dog", 20, "The quick brown fox…"},
		{"cut before trailing punctuation", "Hello, world, again and again", 14, "Hello, world…"},
		{"cut exactly at a space", "abcd efgh ijkl", 6, "abcd…"},
		{"single long word cut inside", "Supercalifragilistic", 6, "Super…"},
		{"short line not cut", "short", 20, "short"},
		{"only a mention", "@alice", 0, ""},
		{"only an h-card mention", `<p><span class="h-card"><a href="https://framapiaf.org/users/tcit" class="u-url mention">@<span>tcit</span></a></span></p>`, 0, ""},
		{"self-closing svg ignored", "<svg/>visible", 0, "visible"},
		{"script content ignored", "<script>title()</script><p>real</p>", 0, "real"},
		{"empty", "", 10, ""},
	}
	p := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.FirstLine(tt.in, tt.max); got != tt.want {
				t.Errorf("FirstLine(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

// TestFirstLineDropsMentionsOfTheCommunity: a title-less post that
// addresses the community at the end of its question is titled by the
// question alone (issue 10).
func TestFirstLineDropsMentionsOfTheCommunity(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"trailing mention", "How do you share trial data? @seedbreeders", "How do you share trial data?"},
		{"trailing mention with host and port", "How do you share trial data? @seedbreeders@coppice.example:8080", "How do you share trial data?"},
		{"trailing mention in another case", "Seed swaps this spring @SeedBreeders.", "Seed swaps this spring"},
		{"leading and trailing", "@seedbreeders What about rye? @seedbreeders", "What about rye?"},
		{"Mastodon h-card at the end", `<p>How do you share trial data? <span class="h-card"><a href="https://coppice.example/c/seedbreeders" class="u-url mention">@<span>seedbreeders</span></a></span></p>`, "How do you share trial data?"},
		{"two trailing mentions of the community and another", "Trial data, @alice @seedbreeders", "Trial data, @alice"},
		{"trailing mention of someone else kept", "Thanks to @alice", "Thanks to @alice"},
		{"mention of the community inside kept", "Ask @seedbreeders about rye", "Ask @seedbreeders about rye"},
		{"only the mention, then the question", "<p>@seedbreeders</p><p>How do you share trial data? @seedbreeders</p>", "How do you share trial data?"},
		{"only the mention", "@seedbreeders", ""},
	}
	p := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.FirstLine(tt.in, 0, "seedbreeders"); got != tt.want {
				t.Errorf("FirstLine(%q, 0, seedbreeders) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFirstLineOfPeerPosts(t *testing.T) {
	tests := []struct {
		name string
		file string
		keys []string
		want string
	}{
		{"Mastodon reply", "mastodon-create_note.json", []string{"object", "content"}, "i have never been disappointed by a…"},
		{"Mastodon post with a mention paragraph", "mastodon-note_2.json", []string{"content"}, "We also need funding 💶 to keep the…"},
		{"Mastodon post with a hashtag", "mastodon-post-activity-hashtag.json", []string{"object", "content"}, "#moo"},
		{"Lemmy page", "lemmy-create_page.json", []string{"object", "content"}, "test body"},
		{"NodeBB topic", "nodebb-page.json", []string{"content"}, "Welcome to your brand new NodeBB forum!"},
		{"Friendica note", "friendica-note_2.json", []string{"content"}, "Note that on #Friendica we…"},
	}
	p := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := p.HTML(payload(t, tt.file, tt.keys...))
			if got := p.FirstLine(in, 40); got != tt.want {
				t.Errorf("FirstLine(%s, 40) = %q, want %q", tt.file, got, tt.want)
			}
		})
	}
}
