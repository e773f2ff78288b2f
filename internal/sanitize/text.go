package sanitize

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// ellipsis marks text that was cut short.
const ellipsis = "…"

// Text returns plain text for a field that must not hold markup, such as
// name, preferredUsername or a summary used as a title: tags are stripped
// (with the content of script, style and the like), entities decoded,
// control characters removed, invalid UTF-8 replaced by U+FFFD, runs of
// white space collapsed to one space, and the result trimmed. If it is
// longer than max runes it is cut to max runes, the last being "…"; max <= 0
// means no limit.
//
// The result is text, not HTML: it must still be escaped when shown.
func (p *Policy) Text(s string, max int) string {
	return truncate(strings.Join(lines(s), " "), max, false)
}

// FirstLine derives a thread title from the HTML content of a post, for
// peers whose posts have no name (Mastodon). It takes the first line of
// text (lines end at block elements and <br>) that has something left once
// leading "@user" and "@user@host" mentions are removed, because Mastodon
// replies begin with them. A line longer than max runes is cut at a word
// boundary and ends with "…"; max <= 0 means no limit. FirstLine returns ""
// if no line has anything left.
//
// Mentions of the users named in addressed ("@name" or "@name@host") are
// also removed from the end of the line: Mastodon users address a community
// by mentioning it after their question ("How do you share trial data?
// @seedbreeders"), and the mention is not part of the title. Mentions of
// anyone else at the end are kept ("Thanks to @alice").
func (p *Policy) FirstLine(s string, max int, addressed ...string) string {
	for _, line := range lines(s) {
		if line = trimTrailingMentions(trimMentions(line), addressed); line != "" {
			return truncate(line, max, true)
		}
	}
	return ""
}

// lines returns the text of the HTML s split into lines at block elements
// and <br>, each line cleaned, with white space collapsed and trimmed.
// Empty lines are left out.
func lines(s string) []string {
	if !strings.ContainsAny(s, "<&") {
		// No markup and no entity: the tokenizer would give s back as one
		// text token. Most names and summaries are empty or plain, and a
		// tokenizer costs a 4 KB buffer (issue 13: four per post).
		if l := collapse(clean(truncateBytes(s, MaxHTML))); l != "" {
			return []string{l}
		}
		return nil
	}
	return tokenizedLines(s)
}

// tokenizedLines is lines for text that may hold markup.
func tokenizedLines(s string) []string {
	var (
		out  []string
		line strings.Builder
		skip int // depth of open elements whose content is dropped
	)
	flush := func() {
		if l := collapse(clean(line.String())); l != "" {
			out = append(out, l)
		}
		line.Reset()
	}
	z := html.NewTokenizer(strings.NewReader(clean(truncateBytes(s, MaxHTML))))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			flush()
			return out
		case html.TextToken:
			if skip == 0 {
				line.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			// A self-closing "<script/>" still opens a script element: the
			// tokenizer reads what follows as its raw text. "<svg/>" is
			// closed at once.
			name, _ := z.TagName()
			selfClosed := tt == html.SelfClosingTagToken && !isRawText(string(name))
			if isSkipContent(string(name)) && !selfClosed {
				skip++
			} else if isLineBreak(string(name)) {
				flush()
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if isSkipContent(string(name)) {
				if skip > 0 {
					skip--
				}
			} else if isLineBreak(string(name)) {
				flush()
			}
		}
	}
}

// isLineBreak reports whether the element name starts or ends a line of
// text.
func isLineBreak(name string) bool {
	switch name {
	case "br", "p", "div", "blockquote", "pre", "hr", "ul", "ol", "li",
		"dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
		"table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
		"address", "article", "aside", "details", "summary", "figure",
		"figcaption", "footer", "header", "main", "nav", "section":
		return true
	}
	return false
}

// trimMentions removes the "@user" and "@user@host" words at the start of
// line, with a "," or ":" after them.
func trimMentions(line string) string {
	for {
		word, rest, _ := strings.Cut(line, " ")
		if !isMention(strings.TrimRight(word, ",:")) {
			return line
		}
		line = rest
	}
}

// trimTrailingMentions removes the mentions of the users named in
// addressed from the end of line, with white space and a "," before them.
func trimTrailingMentions(line string, addressed []string) string {
	for len(addressed) > 0 {
		i := strings.LastIndexByte(line, ' ')
		word := line[i+1:]
		user, ok := mentionUser(strings.TrimRight(word, ".,:!"))
		if !ok || !containsFold(addressed, user) {
			return line
		}
		if i < 0 {
			return ""
		}
		line = strings.TrimRight(line[:i], " ,")
	}
	return line
}

// mentionUser returns the user of a mention "@user" or "@user@host[:port]".
func mentionUser(word string) (string, bool) {
	rest, ok := strings.CutPrefix(word, "@")
	if !ok {
		return "", false
	}
	user, host, hasHost := strings.Cut(rest, "@")
	if hasHost {
		if h, port, ok := strings.Cut(host, ":"); ok && isDigits(port) {
			host = h
		}
		if !isHandle(host) {
			return "", false
		}
	}
	return user, isHandle(user)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func containsFold(list []string, s string) bool {
	for _, e := range list {
		if strings.EqualFold(e, s) {
			return true
		}
	}
	return false
}

// isMention reports whether word has the form "@user" or "@user@host".
func isMention(word string) bool {
	user, ok := strings.CutPrefix(word, "@")
	if !ok {
		return false
	}
	user, host, hasHost := strings.Cut(user, "@")
	return isHandle(user) && (!hasHost || isHandle(host))
}

func isHandle(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !strings.ContainsRune("_.-", r) {
			return false
		}
	}
	return true
}

// truncate cuts s to at most max runes, the last being "…", if it is
// longer. If atWord is set the cut is made at the last space before the
// limit, unless there is none. max <= 0 means no limit.
func truncate(s string, max int, atWord bool) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	// end is the byte offset of rune number max-1, which leaves room for
	// the ellipsis.
	end, n := 0, 0
	for end < len(s) && n < max-1 {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
		n++
	}
	cut := s[:end]
	if atWord && s[end] != ' ' {
		if i := strings.LastIndexByte(cut, ' '); i > 0 {
			cut = cut[:i]
		}
	}
	return strings.TrimRight(cut, " ,;:") + ellipsis
}

// collapse replaces each run of white space in s with one space and trims
// the ends.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// clean returns s as valid UTF-8 (invalid bytes become U+FFFD) without
// control characters other than tab, line feed, form feed and carriage
// return, which are white space to HTML (PAR-07).
func clean(s string) string {
	if !needsClean(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// needsClean reports whether clean would change s. It is the fast path for
// the usual input, which is clean.
func needsClean(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r', c == 0x7f:
			return true
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f:
			return true // U+0080 to U+009F, the C1 controls
		}
	}
	return !utf8.ValidString(s)
}

func isControl(r rune) bool {
	switch r {
	case '\t', '\n', '\f', '\r':
		return false
	}
	return unicode.IsControl(r)
}

// truncateBytes cuts s to at most n bytes without splitting a UTF-8
// sequence.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Back up over at most utf8.UTFMax-1 continuation bytes; invalid input
	// is replaced by clean later anyway.
	for i := 0; i < utf8.UTFMax-1 && n > 0 && !utf8.RuneStart(s[n]); i++ {
		n--
	}
	return s[:n]
}
