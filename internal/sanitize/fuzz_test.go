package sanitize

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// htmlFields appends every "content" and "summary" string found in v, at
// any depth.
func htmlFields(dst []string, v any) []string {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "content" || k == "summary") {
				dst = append(dst, s)
				continue
			}
			dst = htmlFields(dst, x)
		}
	case []any:
		for _, x := range v {
			dst = htmlFields(dst, x)
		}
	}
	return dst
}

// seeds returns the HTML held in testdata: the content and summary fields
// of the JSON payloads and the .html files.
func seeds(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".html" && ext != ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		switch ext {
		case ".html":
			out = append(out, string(b))
		case ".json":
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("decode %s: %v", e.Name(), err)
			}
			out = htmlFields(out, v)
		}
	}
	return out
}

func FuzzHTML(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	for _, s := range []string{
		`<script>alert(1)</script>`, `<script/>alert(1)</script>`,
		`<img src=x onerror=alert(1)>`, `<a href="JaVaScRiPt:alert(1)">x</a>`,
		`<a href="  javascript:alert(1)">x</a>`, `<svg onload=alert(1)>`,
		`<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>`,
		`<p style="background:url(javascript:alert(1))">x</p>`,
		"<p>a\x00b\xff&#0;&#1;</p>", "<p>a<p>b</ul></br>", "<b/><a class='x'>y</a>",
	} {
		f.Add(s)
	}
	p := New()
	f.Fuzz(func(t *testing.T, in string) {
		got := p.HTML(in)
		if !utf8.ValidString(got) || strings.ContainsRune(got, 0) {
			t.Fatalf("HTML(%q) = %q, want valid UTF-8 without NUL", in, got)
		}
		if strings.Contains(strings.ToLower(got), "<script") {
			t.Fatalf("HTML(%q) = %q, contains <script", in, got)
		}
		checkMarkup(t, in, got)
		if again := p.HTML(got); again != got {
			t.Fatalf("HTML(HTML(%q)) = %q, want %q", in, again, got)
		}
		p.Text(in, 50)
		p.FirstLine(in, 50)
	})
}

// checkMarkup fails unless every tag in the output got of HTML(in) is an
// allowed element with allowed attributes and safe URLs. Text may spell
// "javascript:" (a post may talk about it); markup must not.
func checkMarkup(t *testing.T, in, got string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(got))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return
		case html.CommentToken, html.DoctypeToken:
			t.Fatalf("HTML(%q) = %q, has a %v", in, got, tt)
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			if strings.Contains(strings.ToLower(string(z.Raw())), "javascript:") {
				t.Fatalf("HTML(%q) = %q, has javascript: in %q", in, got, z.Raw())
			}
			tok := z.Token()
			if !isAllowedElement(tok.Data) {
				t.Fatalf("HTML(%q) = %q, has element %q", in, got, tok.Data)
			}
			for _, a := range tok.Attr {
				if !isAllowedAttr(tok.Data, a) {
					t.Fatalf("HTML(%q) = %q, has %s=%q on %s", in, got, a.Key, a.Val, tok.Data)
				}
			}
		}
	}
}

func isAllowedElement(name string) bool {
	switch name {
	case "p", "br", "a", "span", "strong", "b", "em", "i", "u", "s", "del",
		"blockquote", "pre", "code", "ul", "ol", "li",
		"h1", "h2", "h3", "h4", "h5", "h6", "hr", "img", "sup", "sub",
		"table", "thead", "tbody", "tfoot", "tr", "th", "td":
		return true
	}
	return false
}

func isAllowedAttr(element string, a html.Attribute) bool {
	switch element + " " + a.Key {
	case "a href":
		return isAbsoluteWeb(a.Val) || strings.HasPrefix(a.Val, "mailto:")
	case "img src":
		return isAbsoluteWeb(a.Val)
	case "a rel":
		return a.Val == linkRel
	case "a class", "span class":
		return a.Val != "" && allowedClasses(a.Val) == a.Val
	case "ol start", "img alt", "img title":
		return true
	}
	return false
}

// isAbsoluteWeb reports whether s is an http or https URL with a host.
func isAbsoluteWeb(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		(strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"))
}

// FuzzPlainLines: for text without markup or entities, the fast path of
// lines gives what the tokenizer gives.
func FuzzPlainLines(f *testing.F) {
	for _, s := range []string{"", " ", "Grafting  notes\r\n", "a\x00b", "\xff\xfe", "tab\there", strings.Repeat("wörd ", 30), "@alice@example.org thanks"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsAny(s, "<&") {
			return
		}
		if got, want := lines(s), tokenizedLines(s); !slices.Equal(got, want) {
			t.Errorf("lines(%q) = %q, the tokenizer gives %q", s, got, want)
		}
	})
}

// TestPlainLinesPastMaxHTML: plain text longer than MaxHTML is cut the
// same way on the fast path as by the tokenizer.
func TestPlainLinesPastMaxHTML(t *testing.T) {
	for _, s := range []string{strings.Repeat("word ", MaxHTML/5+7), strings.Repeat("é", MaxHTML/2) + "x"} {
		if got, want := lines(s), tokenizedLines(s); !slices.Equal(got, want) {
			t.Errorf("lines of %d bytes: %d lines of %d bytes, the tokenizer gives %d of %d", len(s), len(got), len(strings.Join(got, "")), len(want), len(strings.Join(want, "")))
		}
	}
}
