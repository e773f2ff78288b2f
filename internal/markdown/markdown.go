// Package markdown renders the Markdown members write (wiki pages) to HTML
// with goldmark, CommonMark plus tables, strikethrough and autolinks. Raw
// HTML in the source is not passed through: goldmark leaves it out unless
// told otherwise, and callers sanitize the result as well.
package markdown

import (
	"bytes"
	"fmt"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// Renderer turns Markdown into HTML. It is safe for concurrent use.
type Renderer struct {
	md goldmark.Markdown
}

// New returns a Renderer.
func New() *Renderer {
	return &Renderer{md: goldmark.New(
		goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)}
}

// HTML renders src. The result still needs sanitizing before it is stored
// or shown: goldmark drops raw HTML, but a link's scheme is the writer's.
func (r *Renderer) HTML(src string) (string, error) {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(src), &buf); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return buf.String(), nil
}
