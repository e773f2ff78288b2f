package media

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameLen is the longest display name in bytes, extension included.
const maxNameLen = 120

// safeName derives a safe display file name from an uploaded name: its
// base name only, valid UTF-8 without control, format (bidi override) or
// path characters, no leading dots or spaces, at most maxNameLen bytes, and
// ending in ext, which replaces whatever extension it had. A name with
// nothing left becomes "file"+ext.
func safeName(claimed, ext string) string {
	// Both separators count: a Windows browser may send a full path.
	claimed = strings.ToValidUTF8(baseName(claimed), "")
	claimed = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			return -1
		case strings.ContainsRune(`"*:<>?|`, r):
			// Reserved in Windows file names.
			return '_'
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, claimed)
	stem := strings.TrimLeft(claimed, ". ")
	stem = strings.TrimSuffix(stem, path.Ext(stem))
	// Windows drops trailing dots and spaces, which could re-expose an
	// inner extension.
	stem = strings.TrimRight(stem, ". ")
	limit := maxNameLen - len(ext)
	if len(stem) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(stem[cut]) {
			cut--
		}
		stem = strings.TrimRight(stem[:cut], ". ")
	}
	if stem == "" {
		stem = "file"
	}
	return stem + ext
}

// contentDisposition builds a Content-Disposition value (RFC 6266) with an
// ASCII fallback filename and the display name in RFC 8187 encoding.
func contentDisposition(disposition, name string) string {
	var ascii, enc strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x80 && c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
			ascii.WriteByte(c)
		} else if utf8.RuneStart(c) {
			ascii.WriteByte('_')
		}
		if isAttrChar(c) {
			enc.WriteByte(c)
		} else {
			const hex = "0123456789ABCDEF"
			enc.WriteByte('%')
			enc.WriteByte(hex[c>>4])
			enc.WriteByte(hex[c&0xf])
		}
	}
	return disposition + `; filename="` + ascii.String() + `"; filename*=UTF-8''` + enc.String()
}

// isAttrChar reports whether c may appear unencoded in an RFC 8187
// ext-value (attr-char).
func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
