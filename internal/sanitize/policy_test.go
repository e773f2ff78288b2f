package sanitize

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// payload returns the string found by following keys from the top of the
// JSON document testdata/name.
func payload(t testing.TB, name string, keys ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: no object at %q", name, k)
		}
		v = m[k]
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%s: %v is not a string", name, keys)
	}
	return s
}

func TestHTMLDropsDangerousMarkup(t *testing.T) {
	// Every marker is checked against every output, in lower case.
	markers := []string{
		"script", "onerror", "javascript:", "iframe", "<style", "svg",
		"onload", "data:", "<form", "<input", "<base", "style=", "vbscript:",
		"<object", "<embed", "<meta", "/relative", "srcset",
	}
	tests := []struct {
		name string
		in   string
		keep string // text that should survive, if any
	}{
		{"script element", `<script>alert(1)</script>after`, "after"},
		{"self-closing script", `<script/>alert(1)</script>after`, "after"},
		{"image with onerror", `<img src=x onerror=alert(1)>`, ""},
		{"image with onerror and a valid src", `<img src="https://a.example/x.png" onerror="alert(1)">`, `<img src="https://a.example/x.png">`},
		{"javascript link", `<a href="javascript:alert(1)">x</a>`, "x"},
		{"mixed-case javascript link", `<a href="JaVaScRiPt:alert(1)">x</a>`, "x"},
		{"javascript link after spaces", `<a href="  javascript:alert(1)">x</a>`, "x"},
		{"javascript link split by a tab", "<a href=\"java\tscript:alert(1)\">x</a>", "x"},
		{"javascript link with entities", `<a href="&#106;avascript:alert(1)">x</a>`, "x"},
		{"vbscript link", `<a href="vbscript:msgbox(1)">x</a>`, "x"},
		{"data link", `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`, "x"},
		{"data image", `<img src="data:image/png;base64,iVBORw0KGgo=">`, ""},
		{"iframe", `<iframe src="https://evil.example/"></iframe>after`, "after"},
		{"style element", `<style>body{display:none}</style>after`, "after"},
		{"svg with onload", `<svg onload=alert(1)><circle r="1"/></svg>after`, "after"},
		{"style attribute", `<p style="background:url(javascript:alert(1))">text</p>`, "<p>text</p>"},
		{"form with input", `<form action="https://evil.example/"><input name="password"><button onclick="x()">go</button></form>`, "go"},
		{"base element", `<base href="https://evil.example/"><a href="https://ok.example/">x</a>`, `href="https://ok.example/"`},
		{"meta refresh", `<meta http-equiv="refresh" content="0;url=https://evil.example/">text`, "text"},
		{"object and embed", `<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">after`, "after"},
		{"relative link", `<a href="/relative">x</a>`, "x"},
		{"https link without a host", `<a href="https:/relative">x</a><a href="HTTPS:relative">y</a>`, "xy"},
		{"image without a host", `<img src="https:/relative.png">`, ""},
		{"protocol-relative link", `<a href="//evil.example/relative">x</a>`, "x"},
		{"image srcset", `<img src="https://a.example/x.png" srcset="https://evil.example/relative 2x">`, `<img src="https://a.example/x.png">`},
		{"event handler on a kept element", `<p onclick="alert(1)" onload="alert(1)">text</p>`, "<p>text</p>"},
		{"mailto image", `<img src="mailto:a@example.org">`, ""},
		{"escaped script stays text", `&lt;script&gt;alert(1)&lt;/script&gt;`, "&lt;"},
	}
	p := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.HTML(tt.in)
			lower := strings.ToLower(got)
			for _, m := range markers {
				// Escaped text may spell "script": only markup counts there.
				if m == "script" && strings.HasPrefix(tt.name, "escaped") {
					m = "<script"
				}
				if strings.Contains(lower, m) {
					t.Errorf("HTML(%q) = %q, contains %q", tt.in, got, m)
				}
			}
			if !strings.Contains(got, tt.keep) {
				t.Errorf("HTML(%q) = %q, want it to contain %q", tt.in, got, tt.keep)
			}
		})
	}
}

func TestHTMLKeepsPeerMarkup(t *testing.T) {
	tests := []struct {
		name string
		file string
		keys []string
		want []string
		not  []string
	}{
		{
			name: "Mastodon reply with an h-card mention",
			file: "mastodon-create_note.json",
			keys: []string{"object", "content"},
			want: []string{
				`<p><span class="h-card"><a href="https://mamot.fr/@retiolus" class="u-url mention" rel="nofollow noopener noreferrer ugc">@<span>retiolus</span></a></span> i have never been disappointed`,
				"difference anyway.</p>",
			},
		},
		{
			name: "Mastodon post with a mention and a hashtag in text",
			file: "mastodon-post-activity-hashtag.json",
			keys: []string{"object", "content"},
			want: []string{`<a href="https://framapiaf.org/users/tcit" class="u-url mention"`, "#moo</p>"},
		},
		{
			name: "Mastodon post with hashtag links and a shortened link",
			file: "mastodon-status-2.json",
			keys: []string{"content"},
			want: []string{
				`<a href="https://framapiaf.org/tags/Framablog" class="mention hashtag" rel="nofollow noopener noreferrer ugc">#<span>Framablog</span></a>`,
				`<span class="invisible">https://</span><span class="ellipsis">framablog.org/2019/05/14/mobil</span>`,
				"</p><p>",
			},
			not: []string{"target=", `rel="tag"`},
		},
		{
			name: "Mastodon post with translate attributes and an empty class",
			file: "mastodon-note_2.json",
			keys: []string{"content"},
			want: []string{
				`<span class="h-card"><a href="https://lemmy.kde.social/c/kde" class="u-url mention"`,
				`<a href="https://kde.org/donate/" rel="nofollow noopener noreferrer ugc"><span class="invisible">https://</span><span>kde.org/donate/</span>`,
				"<p>[3/3]</p>",
			},
			not: []string{"translate", "target", `class=""`},
		},
		{
			name: "Lemmy page",
			file: "lemmy-create_page.json",
			keys: []string{"object", "content"},
			want: []string{"<p>test body</p>"},
		},
		{
			name: "Lemmy person summary with bold text",
			file: "lemmy-person.json",
			keys: []string{"summary"},
			want: []string{"<p>Captain of the starship <strong>Enterprise</strong>.</p>"},
		},
		{
			name: "Lemmy group summary with a rule",
			file: "lemmy-group.json",
			keys: []string{"summary"},
			want: []string{"<p>Lounge and recreation facility</p>\n<hr>\n<p>Welcome"},
		},
		{
			name: "Friendica quote-share with hashtags and a vcard mention",
			file: "friendica-note_2.json",
			keys: []string{"content"},
			want: []string{
				`<a href="https://nerdica.net/search?tag=Friendica" class="mention hashtag" rel="nofollow noopener noreferrer ugc">#<span>Friendica`,
				`<a href="https://lemmy.ml/u/Liwott" class="u-url mention" rel="nofollow noopener noreferrer ugc"><span class="mention">Liwott@lemmy.ml</span></a>`,
				"<blockquote><h3>Do your commenting tests here.</h3><br>",
				"below post<br>",
			},
			not: []string{"<div", "vcard", "nickname", "title="},
		},
		{
			name: "Friendica page to a community",
			file: "friendica-create_page_1.json",
			keys: []string{"object", "content"},
			want: []string{`<p>Test post to community</p><p><span class="h-card"><a href="https://lemmy.qa.urbanwildlife.biz/c/lemmy_community" class="u-url mention"`},
		},
		{
			name: "Pleroma mention with data attributes",
			file: "pleroma-create_note.json",
			keys: []string{"object", "content"},
			want: []string{`<span class="h-card"><a class="u-url mention" href="https://enterprise.lemmy.ml/u/picard" rel="nofollow noopener noreferrer ugc">@<span>lanodan</span></a></span> test`},
			not:  []string{"data-user"},
		},
		{
			name: "Pleroma hashtag and attachment link",
			file: "pleroma-comment-object.json",
			keys: []string{"content"},
			want: []string{
				`<a class="hashtag" href="https://fedi.absturztau.be/tag/animeirl" rel="nofollow noopener noreferrer ugc">#animeirl</a><br>`,
				`<a href="https://fedi.absturztau.be/media/`,
			},
			not: []string{"data-tag", "attachment"},
		},
		{
			name: "NodeBB topic with headings and a list",
			file: "nodebb-page.json",
			keys: []string{"content"},
			want: []string{
				"<h3>Welcome to your brand new NodeBB forum!</h3>",
				"title and content.<br>\nTo customise",
				`<li><a href="https://docs.nodebb.org/" rel="nofollow noopener noreferrer ugc">NodeBB Documentation</a></li>`,
				"</ul>",
			},
			not: []string{`rel="nofollow ugc"`},
		},
		{
			name: "Mobilizon event with target blank links",
			file: "mobilizon-event.json",
			keys: []string{"content"},
			want: []string{`<a href="https://www.exeterceilidhs.net/" rel="nofollow noopener noreferrer ugc">ceilidhs</a>, they&#39;re`, "<p></p>"},
			not:  []string{"target"},
		},
	}
	p := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := payload(t, tt.file, tt.keys...)
			got := p.HTML(in)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("HTML(%s) = %q, want it to contain %q", tt.file, got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("HTML(%s) = %q, want no %q", tt.file, got, n)
				}
			}
		})
	}
}

func TestHTMLKeepsLemmyMarkdown(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "lemmy-markdown.html"))
	if err != nil {
		t.Fatal(err)
	}
	got := New().HTML(string(b))
	for _, w := range []string{
		"<h1>Release notes</h1>",
		"<h2>What changed</h2>",
		"<strong>markdown</strong> with <em>markdown-it</em>",
		"<code>inline code</code>, <del>struck</del>",
		`<a href="https://join-lemmy.org/docs/" rel="nofollow noopener noreferrer ugc">link</a>`,
		"<ul>\n<li>First item</li>",
		`<ol start="3">`,
		"<blockquote>\n<p>A quoted paragraph.</p>\n</blockquote>",
		// The code's entities stay entities; the class is dropped.
		"<pre><code>fn main() {\n    println!(&#34;&lt;b&gt;not bold&lt;/b&gt;&#34;);\n}\n</code></pre>",
		`<img src="https://lemmy.ml/pictrs/image/1a2b3c.png" alt="a screenshot" title="Screenshot">`,
		"<hr>",
		"<tr><th>Version</th><th>Date</th></tr>",
		"H<sub>2</sub>O and x<sup>2</sup><br>\nsecond line</p>",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("HTML(lemmy-markdown.html) = %q, want it to contain %q", got, w)
		}
	}
}

func TestHTMLCleansLinksAndClasses(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"rel replaced and target removed", `<a href="https://a.example/" rel="me" target="_blank">x</a>`, `<a href="https://a.example/" rel="nofollow noopener noreferrer ugc">x</a>`},
		{"mailto link kept", `<a href="mailto:a@example.org">mail</a>`, `<a href="mailto:a@example.org" rel="nofollow noopener noreferrer ugc">mail</a>`},
		{"unknown classes dropped", `<a href="https://a.example/" class="url u-url mention fn">x</a>`, `<a href="https://a.example/" class="u-url mention" rel="nofollow noopener noreferrer ugc">x</a>`},
		{"repeated class kept once", `<span class="mention mention">x</span>`, `<span class="mention">x</span>`},
		{"link left without attributes dropped", `<a class="nope" title="t">x</a>`, "x"},
		{"mention link without href kept", `<a class="mention">@x</a>`, `<a class="mention">@x</a>`},
		{"class dropped on other elements", `<p class="mention">x</p>`, "<p>x</p>"},
		{"duplicate href keeps the first", `<a href="https://a.example/" href="https://b.example/">x</a>`, `<a href="https://a.example/" rel="nofollow noopener noreferrer ugc">x</a>`},
		{"ordered list start kept if numeric", `<ol start="2"><li>a</li></ol><ol start="x"><li>b</li></ol>`, `<ol start="2"><li>a</li></ol><ol><li>b</li></ol>`},
		{"image scheme lower-cased", `<img src="HTTPS://a.example/x.png" alt="x" width="9">`, `<img src="https://a.example/x.png" alt="x">`},
		{"self-closing svg skipped without its siblings", `<svg/><p>after</p>`, "<p>after</p>"},
		{"self-closing title still hides its text", `<title/>hidden</title><p>shown</p>`, "<p>shown</p>"},
		{"unknown element dropped but text kept", `<div><marquee>hi</marquee></div>`, "hi"},
	}
	p := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.HTML(tt.in); got != tt.want {
				t.Errorf("HTML(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestHTMLBalancesTags(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"open elements closed at the end", "<blockquote><p><b>x", "<blockquote><p><b>x</b></p></blockquote>"},
		{"stray end tags dropped", "</div></td></table>x</p></br>", "x"},
		{"misnested end closes the inner elements", "<p><b><i>x</p>y", "<p><b><i>x</i></b></p>y"},
		{"second paragraph closes the first", "<p>a<p>b", "<p>a</p><p>b</p>"},
		{"second list item closes the first", "<ul><li>a<li>b</ul>", "<ul><li>a</li><li>b</li></ul>"},
		{"self-closing non-void element closed", "<b/>x", "<b></b>x"},
		{"self-closing void element kept", "a<br/>b<hr/>", "a<br>b<hr>"},
	}
	p := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.HTML(tt.in); got != tt.want {
				t.Errorf("HTML(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestHTMLLimitsNesting(t *testing.T) {
	in := strings.Repeat("<b>", 20_000) + "x" + strings.Repeat("</i>", 10_000)
	got := New().HTML(in)
	if n := strings.Count(got, "<b>"); n != maxDepth {
		t.Errorf("HTML(20000 nested b) has %d b elements, want %d", n, maxDepth)
	}
	if want := strings.Repeat("<b>", maxDepth) + "x" + strings.Repeat("</b>", maxDepth); got != want {
		t.Errorf("HTML(20000 nested b) = %.40q…, want %.40q…", got, want)
	}
}

func TestHTMLOutputIsCleanUTF8(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"invalid UTF-8 replaced", "<p>a\xff\xfeb</p>", "<p>a\uFFFDb</p>"},
		{"NUL bytes removed", "<p>a\x00b</p>", "<p>ab</p>"},
		{"NUL reference replaced", "<p>a&#0;b</p>", "<p>a\uFFFDb</p>"},
		{"control character reference removed", "<p>a&#1;b&#x1b;c</p>", "<p>abc</p>"},
		{"raw control characters removed", "<p>a\x07b\u0085c</p>", "<p>abc</p>"},
		{"surrogate reference replaced", "<p>&#xD800;</p>", "<p>\uFFFD</p>"},
		{"tabs and newlines kept", "<p>a\tb\nc</p>", "<p>a\tb\nc</p>"},
	}
	p := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.HTML(tt.in)
			if got != tt.want {
				t.Errorf("HTML(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("HTML(%q) = %q, not valid UTF-8", tt.in, got)
			}
		})
	}
}

func TestHTMLCutsLongInput(t *testing.T) {
	// CON-05: a 1 MB content is cut to MaxHTML bytes before sanitizing. The
	// cut falls inside "é" (2 bytes) and must not leave half of it.
	in := "<p>" + strings.Repeat("é", MaxHTML) + "</p>"
	got := New().HTML(in)
	if len(got) > MaxHTML+len("</p>") {
		t.Errorf("HTML(%d bytes) is %d bytes, want at most %d", len(in), len(got), MaxHTML+len("</p>"))
	}
	if !utf8.ValidString(got) || strings.ContainsRune(got, utf8.RuneError) {
		t.Errorf("HTML(%d bytes) ends %q, want whole runes", len(in), got[len(got)-10:])
	}
	if !strings.HasSuffix(got, "é</p>") {
		t.Errorf("HTML(%d bytes) ends %q, want the paragraph closed", len(in), got[len(got)-10:])
	}
}

func TestPolicyIsSafeForConcurrentUse(t *testing.T) {
	p := New()
	in := payload(t, "mastodon-status-2.json", "content")
	want := p.HTML(in)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := p.HTML(in); got != want {
				t.Errorf("HTML(mastodon-status-2.json) = %q concurrently, want %q", got, want)
			}
			p.Text(in, 20)
			p.FirstLine(in, 20)
		})
	}
	wg.Wait()
}

func BenchmarkHTML(b *testing.B) {
	// A 1.3 KB Mastodon post: paragraphs, a shortened link, two hashtags.
	in := payload(b, "mastodon-status-2.json", "content")
	in += payload(b, "mastodon-note_2.json", "content")
	p := New()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		p.HTML(in)
	}
}
