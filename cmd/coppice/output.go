package main

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// row prints one line of a listing: its fields separated by tabs. Every
// field is made safe for a terminal first, because most of what the
// listings show came from other servers (report reasons, actor IRIs,
// resource titles): a remote Flag could otherwise move the cursor, rewrite
// earlier lines or change the terminal's title with escape sequences, or
// forge a line with a tab or newline of its own (issue 11, bypass 6).
func row(w io.Writer, fields ...any) {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = printable(fmt.Sprint(f))
	}
	fmt.Fprintln(w, strings.Join(parts, "\t"))
}

// printable replaces control characters (C0, DEL, C1: escape sequences,
// tabs and line breaks among them) and the bidirectional formatting
// characters, which can make a line read as something else, with U+FFFD.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isBidiControl(r) || r == unicode.ReplacementChar {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}
