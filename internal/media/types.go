package media

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// sniffLen is how many leading bytes of an upload are kept for sniffing;
// http.DetectContentType looks at no more than this.
const sniffLen = 512

// zipPartLimit caps how much of one ZIP entry is read while sniffing, so a
// compressed bomb cannot cost more than this.
const zipPartLimit = 64 << 10

// kind is one allowed file type.
type kind struct {
	contentType string
	inline      bool // images and PDF may be shown in the browser
}

// kindOf is the allow-list, keyed by the extension a file is stored under.
// Nothing outside it is ever written or served.
func kindOf(ext string) (kind, bool) {
	switch ext {
	case ".pdf":
		return kind{"application/pdf", true}, true
	case ".png":
		return kind{"image/png", true}, true
	case ".jpg":
		return kind{"image/jpeg", true}, true
	case ".gif":
		return kind{"image/gif", true}, true
	case ".webp":
		return kind{"image/webp", true}, true
	case ".txt", ".md":
		return kind{"text/plain; charset=utf-8", false}, true
	case ".csv":
		return kind{"text/csv; charset=utf-8", false}, true
	case ".docx":
		return kind{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", false}, true
	case ".xlsx":
		return kind{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", false}, true
	case ".pptx":
		return kind{"application/vnd.openxmlformats-officedocument.presentationml.presentation", false}, true
	case ".odt":
		return kind{"application/vnd.oasis.opendocument.text", false}, true
	case ".ods":
		return kind{"application/vnd.oasis.opendocument.spreadsheet", false}, true
	case ".odp":
		return kind{"application/vnd.oasis.opendocument.presentation", false}, true
	case ".epub":
		return kind{"application/epub+zip", false}, true
	case ".zip":
		return kind{"application/zip", false}, true
	}
	return kind{}, false
}

// textExt maps a claimed extension accepted for plain text to the extension
// the file is stored under. Text has no magic number, so a text file is only
// taken when its name says it is text (or says nothing): this keeps out
// scripts (.js), markup (.html, .svg) and text posing as an image.
func textExt(claimedExt string) (string, bool) {
	switch claimedExt {
	case "", ".txt", ".text":
		return ".txt", true
	case ".md", ".markdown":
		return ".md", true
	case ".csv":
		return ".csv", true
	}
	return "", false
}

// isImageExt reports whether a claimed extension announces an image.
// CON-04: a file claiming to be an image must have the bytes of an allowed
// image.
func isImageExt(claimedExt string) bool {
	switch claimedExt {
	case ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".apng", ".gif", ".webp",
		".svg", ".svgz", ".bmp", ".ico", ".tif", ".tiff", ".avif", ".heic", ".heif":
		return true
	}
	return false
}

// ooxmlExt finds the main part of an OOXML package in its
// [Content_Types].xml (ECMA-376 Part 2 §10.1.2). Macro-enabled and template
// variants are not matched, so they are kept as plain ZIP archives.
func ooxmlExt(contentTypes []byte) (string, bool) {
	switch {
	case bytes.Contains(contentTypes, []byte("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")):
		return ".docx", true
	case bytes.Contains(contentTypes, []byte("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")):
		return ".xlsx", true
	case bytes.Contains(contentTypes, []byte("application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml")):
		return ".pptx", true
	}
	return "", false
}

// mimetypeExt maps the content of the "mimetype" entry of an ODF package
// (ODF 1.2 Part 3 §3.3) or an EPUB container (OCF 3.0 §4.3) to an extension.
func mimetypeExt(mimetype []byte) (string, bool) {
	switch string(bytes.TrimSpace(mimetype)) {
	case "application/vnd.oasis.opendocument.text":
		return ".odt", true
	case "application/vnd.oasis.opendocument.spreadsheet":
		return ".ods", true
	case "application/vnd.oasis.opendocument.presentation":
		return ".odp", true
	case "application/epub+zip":
		return ".epub", true
	}
	return "", false
}

// errUnknown is wrapped into ErrType with a reason for the log.
var errUnknown = errors.New("unknown type")

// sniff decides the stored extension of a file from its bytes. head is the
// start of the file (up to sniffLen bytes), f the whole file of size n, and
// claimedExt the lower-cased extension of the uploaded name. Errors wrap
// ErrType.
func sniff(head []byte, f io.ReaderAt, n int64, claimedExt string) (string, error) {
	if n == 0 {
		return "", fmt.Errorf("empty file: %w", ErrType)
	}
	ext, err := sniffExt(head, f, n, claimedExt)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrType, err)
	}
	if k, _ := kindOf(ext); isImageExt(claimedExt) && !strings.HasPrefix(k.contentType, "image/") {
		return "", fmt.Errorf("%w: name says %s, bytes say %s", ErrType, claimedExt, k.contentType)
	}
	return ext, nil
}

func sniffExt(head []byte, f io.ReaderAt, n int64, claimedExt string) (string, error) {
	// Magic numbers first: they are exact, whereas DetectContentType also
	// guesses HTML from tags found after leading white space.
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return ".pdf", nil
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return ".png", nil
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		return ".jpg", nil
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return ".gif", nil
	case len(head) >= 16 && string(head[:4]) == "RIFF" && string(head[8:15]) == "WEBPVP8":
		return ".webp", nil
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return sniffZip(f, n)
	}
	ct := http.DetectContentType(head)
	if ct != "text/plain; charset=utf-8" {
		// HTML, XML, UTF-16 text, executables (application/octet-stream)
		// and every other type the allow-list does not name.
		return "", fmt.Errorf("%w: %s", errUnknown, ct)
	}
	ext, ok := textExt(claimedExt)
	if !ok {
		return "", fmt.Errorf("%w: text named %q", errUnknown, claimedExt)
	}
	if err := checkText(io.NewSectionReader(f, 0, n)); err != nil {
		return "", err
	}
	return ext, nil
}

// checkText accepts UTF-8 text without control characters other than tab,
// line feed, form feed and carriage return, and refuses text that opens
// with markup: DetectContentType knows no SVG, and skips no byte order mark
// before looking for HTML.
func checkText(r io.Reader) error {
	br := bufio.NewReader(r)
	leading := true
	for {
		c, size, err := br.ReadRune()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read text: %w", err)
		}
		switch {
		case c == utf8.RuneError && size == 1:
			return errors.New("text is not UTF-8")
		case c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r', c == 0x7f:
			return fmt.Errorf("text has control character %U", c)
		}
		if leading {
			switch c {
			case '\ufeff', ' ', '\t', '\n', '\f', '\r':
			case '<':
				return errors.New("text starts with markup")
			default:
				leading = false
			}
		}
	}
}

// sniffZip tells office documents and EPUB books from other ZIP archives.
// Archives with entries that would escape the folder they are unpacked into,
// and Java or Android packages (executables), are refused.
func sniffZip(f io.ReaderAt, n int64) (string, error) {
	zr, err := zip.NewReader(f, n)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return "", fmt.Errorf("read zip: %w", err)
	}
	entries := make(map[string]*zip.File, len(zr.File))
	for _, zf := range zr.File {
		if !isLocalZipName(zf.Name) {
			return "", fmt.Errorf("zip entry %q escapes the archive", zf.Name)
		}
		entries[zf.Name] = zf
	}
	for _, name := range []string{"META-INF/MANIFEST.MF", "AndroidManifest.xml", "classes.dex"} {
		if entries[name] != nil {
			return "", fmt.Errorf("%w: executable archive with %s", errUnknown, name)
		}
	}
	if zf := entries["mimetype"]; zf != nil {
		b, err := readZipPart(zf)
		if err != nil {
			return "", err
		}
		if ext, ok := mimetypeExt(b); ok {
			return ext, nil
		}
	}
	if zf := entries["[Content_Types].xml"]; zf != nil {
		b, err := readZipPart(zf)
		if err != nil {
			return "", err
		}
		if ext, ok := ooxmlExt(b); ok {
			return ext, nil
		}
	}
	return ".zip", nil
}

func readZipPart(zf *zip.File) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("open zip entry %q: %w", zf.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, zipPartLimit))
	if err != nil {
		return nil, fmt.Errorf("read zip entry %q: %w", zf.Name, err)
	}
	return b, nil
}

// isLocalZipName reports whether a ZIP entry name stays inside the folder
// the archive is unpacked into, whatever the unpacker's platform: some
// Windows tools take a backslash as a separator and "C:" as a drive.
func isLocalZipName(name string) bool {
	if name == "" || strings.ContainsRune(name, 0) ||
		name[0] == '/' || name[0] == '\\' || (len(name) >= 2 && name[1] == ':') {
		return false
	}
	for el := range strings.FieldsFuncSeq(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if el == ".." {
			return false
		}
	}
	return true
}
