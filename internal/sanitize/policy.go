package sanitize

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// MaxHTML is the largest input, in bytes, that HTML, Text and FirstLine look
// at; anything after it is cut off before sanitizing (SECURITY.md CON-05).
// Long Lemmy and WordPress articles stay under 100 KB; Mastodon's own
// limit is 500 characters.
const MaxHTML = 100_000

// maxDepth is how deeply elements may nest in the output; start tags
// deeper than this are dropped, and their content is kept. Real posts nest
// a few levels (a quote in a list item); thousands of levels only slow
// down browsers.
const maxDepth = 100

// linkRel is the rel value given to every link with an href: remote links
// are user-generated content that gets no ranking credit, no referrer and
// no window.opener.
const linkRel = "nofollow noopener noreferrer ugc"

// Policy sanitizes remote HTML and extracts plain text from it. A Policy is
// safe for concurrent use by multiple goroutines.
type Policy struct {
	html *bluemonday.Policy
}

// New returns a Policy with the allow-list described in the package
// documentation.
func New() *Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(
		"p", "br", "span", "strong", "b", "em", "i", "u", "s", "del",
		"blockquote", "pre", "code", "ul", "ol", "li",
		"h1", "h2", "h3", "h4", "h5", "h6", "hr", "sup", "sub",
		"table", "thead", "tbody", "tfoot", "tr", "th", "td",
	)

	// Remote relative URLs would resolve against our host, so only
	// absolute URLs with these schemes are kept. bluemonday parses each URL,
	// trims surrounding space and lower-cases the scheme before comparing,
	// which defeats "JaVaScRiPt:" and "  javascript:".
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.AllowURLSchemes("mailto")
	// A browser resolves "https:x" and "https:/x" against a base URL with
	// the same scheme (WHATWG URL, special relative or authority state), so
	// an http or https URL must name a host.
	p.AllowURLSchemeWithCustomPolicy("http", hasHost)
	p.AllowURLSchemeWithCustomPolicy("https", hasHost)
	p.AllowAttrs("href").OnElements("a")
	// The scheme list is shared by every URL attribute, so images are held
	// to http and https by a pattern as well.
	p.AllowAttrs("src").Matching(regexp.MustCompile(`(?i)^\s*https?://`)).OnElements("img")
	p.AllowAttrs("alt", "title").OnElements("img")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	// Any class value gets through here; cleanTags keeps only the
	// microformat and mention classes (see isAllowedClass).
	p.AllowAttrs("class").OnElements("a", "span")

	// Drop these together with everything inside them, so the text of a
	// script or an inline SVG never turns into visible text.
	p.SkipElementsContent(skipContentElements()...)
	return &Policy{html: p}
}

// HTML returns a safe version of the untrusted HTML s, ready to be stored
// and later inserted into a page as it is.
func (p *Policy) HTML(s string) string {
	s = clean(truncateBytes(s, MaxHTML))
	if strings.Contains(s, "/>") {
		s = openRawSelfClosing(s)
	}
	s = p.html.Sanitize(s)
	// Numeric character references such as "&#1;" decode to control
	// characters, so the output is cleaned again (PAR-07).
	return clean(cleanTags(s))
}

// hasHost reports whether u is an absolute URL with a host.
func hasHost(u *url.URL) bool {
	return u.Host != "" && u.Opaque == ""
}

// openRawSelfClosing rewrites "<script/>" and the like as plain start tags.
// The HTML tokenizer (like a browser) ignores the slash and reads what
// follows as the element's raw text, but bluemonday skips the content only
// after a start tag, so without this the body of "<script/>…</script>"
// would survive as visible text.
func openRawSelfClosing(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return b.String()
		}
		if tt == html.SelfClosingTagToken {
			name, _ := z.TagName()
			if isRawText(string(name)) {
				b.WriteString("<" + string(name) + ">")
				continue
			}
		}
		b.Write(z.Raw())
	}
}

// cleanTags makes the final changes bluemonday cannot express, on its
// output:
//   - keeps only the allowed classes on a and span, and drops the start tag
//     of an a left with no attributes;
//   - sets rel on every a that has an href;
//   - balances tags: an end tag without an open element is dropped, open
//     elements are closed, and a non-void "<b/>" becomes "<b></b>" (browsers
//     ignore the slash and would leave it open);
//   - drops start tags nested deeper than maxDepth.
//
// A dropped start tag is never put on the stack of open elements, so its
// end tag is treated like any other: it closes an open element of the same
// name or is dropped. Run again on its own output, cleanTags then makes the
// same decisions and changes nothing.
//
// Text passes through byte for byte, as bluemonday escaped it.
func cleanTags(s string) string {
	var (
		b      strings.Builder
		stack  []string           // names of the open elements written
		opened = map[string]int{} // elements in stack, by name
	)
	closeTop := func() {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		opened[name]--
		b.WriteString("</" + name + ">")
	}
	b.Grow(len(s) + len(s)/8)
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			for len(stack) > 0 {
				closeTop()
			}
			return b.String()
		case html.StartTagToken, html.SelfClosingTagToken:
			raw := z.Raw()
			rawName, hasAttr := z.TagName()
			name := string(rawName)
			// Most tags are written as bluemonday wrote them; a and span
			// need their attributes cleaned, and "<x/>" loses its slash.
			rewrite := name == "a" || name == "span" || tt == html.SelfClosingTagToken
			t := html.Token{Type: html.StartTagToken, Data: name}
			if rewrite {
				for hasAttr {
					var key, val []byte
					key, val, hasAttr = z.TagAttr()
					t.Attr = append(t.Attr, html.Attribute{Key: string(key), Val: string(val)})
				}
				if name == "a" || name == "span" {
					t.Attr = cleanAttrs(name, t.Attr)
				}
			}
			if isVoid(name) {
				writeTag(&b, rewrite, raw, t)
				continue
			}
			if name == "a" && len(t.Attr) == 0 {
				continue
			}
			// Sloppy "<p>a<p>b" and "<li>a<li>b": the second tag closes the
			// first, as a browser would.
			if n := len(stack); n > 0 && (name == "p" || name == "li") && stack[n-1] == name {
				closeTop()
			} else if len(stack) >= maxDepth {
				continue
			}
			writeTag(&b, rewrite, raw, t)
			stack = append(stack, name)
			opened[name]++
			if tt == html.SelfClosingTagToken {
				closeTop()
			}
		case html.EndTagToken:
			// An end tag with nothing to close is dropped: a browser would
			// read "</br>" as "<br>", "</p>" as "<p></p>", and others could
			// close elements of the page around the content. Checking the
			// count first keeps a run of stray end tags from costing a
			// search of the stack each.
			name, _ := z.TagName()
			if opened[string(name)] == 0 {
				continue
			}
			for stack[len(stack)-1] != string(name) {
				closeTop()
			}
			closeTop()
		default:
			b.Write(z.Raw())
		}
	}
}

// writeTag writes t if rewrite is set, and raw otherwise.
func writeTag(b *strings.Builder, rewrite bool, raw []byte, t html.Token) {
	if rewrite {
		b.WriteString(t.String())
	} else {
		b.Write(raw)
	}
}

// cleanAttrs returns the attributes of an a or span element that survive:
// the first of each name, with class reduced to the allowed classes and,
// on a link, rel set to linkRel.
func cleanAttrs(element string, attrs []html.Attribute) []html.Attribute {
	out := attrs[:0]
	hasHref := false
	for _, a := range attrs {
		if a.Namespace != "" || a.Key == "rel" || hasAttr(out, a.Key) {
			continue
		}
		if a.Key == "class" {
			a.Val = allowedClasses(a.Val)
			if a.Val == "" {
				continue
			}
		}
		if a.Key == "href" {
			hasHref = true
		}
		out = append(out, a)
	}
	if element == "a" && hasHref {
		out = append(out, html.Attribute{Key: "rel", Val: linkRel})
	}
	return out
}

func hasAttr(attrs []html.Attribute, key string) bool {
	for _, a := range attrs {
		if a.Key == key {
			return true
		}
	}
	return false
}

// allowedClasses returns the allowed classes in the space-separated list
// value, in order and without repeats.
func allowedClasses(value string) string {
	var kept []string
	for _, c := range strings.Fields(value) {
		if isAllowedClass(c) && !contains(kept, c) {
			kept = append(kept, c)
		}
	}
	return strings.Join(kept, " ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// isAllowedClass reports whether class is one the peers use for mentions
// and hashtags (Mastodon, Pleroma, Friendica: h-card, u-url, mention,
// hashtag) or for link shortening (Mastodon: invisible, ellipsis).
func isAllowedClass(class string) bool {
	switch class {
	case "mention", "hashtag", "u-url", "h-card", "invisible", "ellipsis":
		return true
	}
	return false
}

// isVoid reports whether the allowed element name has no end tag.
func isVoid(name string) bool {
	switch name {
	case "br", "hr", "img":
		return true
	}
	return false
}

// skipContentElements lists the elements dropped together with their
// content, by HTML and by Text and FirstLine.
func skipContentElements() []string {
	return []string{
		"script", "style", "template", "iframe", "frame", "frameset", "object",
		"noscript", "noembed", "noframes", "title", "textarea", "select",
		"svg", "math",
	}
}

func isSkipContent(name string) bool {
	return contains(skipContentElements(), name)
}

// isRawText reports whether the HTML tokenizer reads the content of the
// element name as raw text, up to its end tag, even after "<name/>".
func isRawText(name string) bool {
	switch name {
	case "script", "style", "iframe", "noembed", "noframes", "noscript",
		"textarea", "title", "xmp", "plaintext":
		return true
	}
	return false
}
