package media

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const (
	ooxmlTypesWord = `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`
	ooxmlTypesSheet = `<Types><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`
	ooxmlTypesSlide = `<Types><Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/></Types>`
	ooxmlTypesMacro = `<Types><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>`
)

func TestSaveAllowedTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		claimed  string
		content  []byte
		wantType string
		wantExt  string
	}{
		{"JPEG", "photo.jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00rest"), "image/jpeg", ".jpg"},
		{"GIF", "anim.gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "image/gif", ".gif"},
		{"WebP", "pic.webp", []byte("RIFF\x1a\x00\x00\x00WEBPVP8 \x0e\x00\x00\x00data"), "image/webp", ".webp"},
		{"Word document", "report.docx", zipBytes(t, zipEntry{"[Content_Types].xml", ooxmlTypesWord}, zipEntry{"word/document.xml", "<w/>"}),
			"application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"},
		{"Excel workbook", "budget.xlsx", zipBytes(t, zipEntry{"[Content_Types].xml", ooxmlTypesSheet}, zipEntry{"xl/workbook.xml", "<x/>"}),
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"},
		{"PowerPoint deck named as a zip", "deck.zip", zipBytes(t, zipEntry{"_rels/.rels", "<r/>"}, zipEntry{"[Content_Types].xml", ooxmlTypesSlide}),
			"application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"},
		{"OpenDocument text", "essay.odt", zipBytes(t, zipEntry{"mimetype", "application/vnd.oasis.opendocument.text"}, zipEntry{"content.xml", "<o/>"}),
			"application/vnd.oasis.opendocument.text", ".odt"},
		{"OpenDocument spreadsheet", "sheet.ods", zipBytes(t, zipEntry{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}),
			"application/vnd.oasis.opendocument.spreadsheet", ".ods"},
		{"OpenDocument presentation", "talk.odp", zipBytes(t, zipEntry{"mimetype", "application/vnd.oasis.opendocument.presentation"}),
			"application/vnd.oasis.opendocument.presentation", ".odp"},
		{"EPUB book", "book.epub", zipBytes(t, zipEntry{"mimetype", "application/epub+zip"}, zipEntry{"META-INF/container.xml", "<c/>"}),
			"application/epub+zip", ".epub"},
		{"ZIP that is not an office document", "bundle.zip", zipBytes(t, zipEntry{"hello.txt", "hi"}, zipEntry{"sub/readme.md", "# x"}),
			"application/zip", ".zip"},
		{"macro-enabled Word document", "macro.docm", zipBytes(t, zipEntry{"[Content_Types].xml", ooxmlTypesMacro}),
			"application/zip", ".zip"},
		{"text with a byte order mark", "bom.txt", []byte("\ufeffhello\r\n"), "text/plain; charset=utf-8", ".txt"},
		{"Markdown with inline HTML later on", "guide.markdown", []byte("# Guide\n\n<b>bold</b>\n"), "text/plain; charset=utf-8", ".md"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newStore(t, 0)
			f, err := s.Save(t.Context(), bytes.NewReader(tt.content), tt.claimed)
			if err != nil {
				t.Fatalf("Save(%q) = %v", tt.claimed, err)
			}
			if f.ContentType != tt.wantType || f.Ext != tt.wantExt {
				t.Errorf("Save(%q) = %q %q, want %q %q", tt.claimed, f.ContentType, f.Ext, tt.wantType, tt.wantExt)
			}
		})
	}
}

// CON-04 and the allow-list: anything a browser could run is refused.
func TestSaveRefusedTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		claimed string
		content []byte
	}{
		{"HTML named photo.jpg", "photo.jpg", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")},
		{"HTML after white space named photo.jpg", "photo.jpg", []byte("\n\n  <html><body>x</body></html>")},
		{"SVG with onload named image.png", "image.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)},
		{"SVG with an XML prolog named image.png", "image.png", []byte(`<?xml version="1.0"?><svg onload="alert(1)"/>`)},
		{"SVG named drawing.txt", "drawing.txt", []byte(`<svg onload="alert(1)"/>`)},
		{"HTML behind a byte order mark named page.txt", "page.txt", []byte("\ufeff<html><script>alert(1)</script>")},
		{"HTML comment then script named notes.md", "notes.md", []byte("<!-- x --><script>alert(1)</script>")},
		{"plain text named photo.jpg", "photo.jpg", []byte("just some words")},
		{"PDF named photo.jpg", "photo.jpg", []byte(minimalPDF)},
		{"JavaScript", "app.js", []byte("alert(document.cookie)\n")},
		{"HTML page", "index.html", []byte("<html><body>hi</body></html>")},
		{"XML document", "data.xml", []byte(`<?xml version="1.0"?><a/>`)},
		{"Windows executable", "setup.pdf", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00")},
		{"ELF executable", "tool", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00")},
		{"shell script named notes.txt", "notes.txt", []byte("#!/bin/sh\x00rm -rf /\n")},
		{"UTF-16 text", "u16.txt", []byte("\xff\xfeh\x00i\x00")},
		{"invalid UTF-8 after the sniffed prefix", "late.txt", []byte(strings.Repeat("a", 600) + "\xff\xfe")},
		{"control character after the sniffed prefix", "late.txt", append([]byte(strings.Repeat("a", 600)), 0x1b, '[', 'm')},
		{"empty file", "empty.txt", nil},
		{"truncated ZIP", "broken.zip", []byte("PK\x03\x04garbage")},
		{"ZIP with a traversing entry", "slip.zip", zipBytes(t, zipEntry{"../../evil.sh", "x"})},
		{"ZIP with a Windows traversing entry", "slip.zip", zipBytes(t, zipEntry{`a\..\..\evil.bat`, "x"})},
		{"ZIP with an absolute entry", "slip.zip", zipBytes(t, zipEntry{"/etc/cron.d/x", "x"})},
		{"Java archive", "tool.zip", zipBytes(t, zipEntry{"META-INF/MANIFEST.MF", "Main-Class: X\n"})},
		{"Android package", "app.zip", zipBytes(t, zipEntry{"AndroidManifest.xml", "x"}, zipEntry{"classes.dex", "x"})},
		{"BMP image", "pic.bmp", []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, dir := newStore(t, 0)
			f, err := s.Save(t.Context(), bytes.NewReader(tt.content), tt.claimed)
			if !errors.Is(err, ErrType) {
				t.Errorf("Save(%q) = %+v, %v, want %v", tt.claimed, f, err, ErrType)
			}
			if got := storedFiles(t, dir); len(got) != 0 {
				t.Errorf("files on disk = %q, want none", got)
			}
		})
	}
}
