package federation

import (
	"html"
	"strings"
)

// summaryHTML turns plain text typed by an admin into the HTML that
// ActivityStreams summary and content carry: escaped, one paragraph per
// blank-line-separated block, line breaks kept.
func summaryHTML(text string) string {
	var b strings.Builder
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString("</p>")
	}
	return b.String()
}
