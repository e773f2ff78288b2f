// Package textdiff compares two texts line by line, for the history of
// wiki pages: the longest common subsequence of their lines, and what was
// taken out and put in around it.
package textdiff

import "strings"

// Op says what happened to a line.
type Op byte

// The kinds of line in a diff.
const (
	Same    Op = ' '
	Removed Op = '-'
	Added   Op = '+'
)

// Line is one line of a diff.
type Line struct {
	Op   Op
	Text string
}

// MaxLines bounds each side of a comparison; longer texts are compared on
// their first MaxLines lines and the rest shown as replaced, so a diff
// never costs more than MaxLines² steps.
const MaxLines = 3000

// Lines returns the line diff that turns a into b.
func Lines(a, b string) []Line {
	as, bs := split(a), split(b)
	var tailA, tailB []string
	if len(as) > MaxLines {
		as, tailA = as[:MaxLines], as[MaxLines:]
	}
	if len(bs) > MaxLines {
		bs, tailB = bs[:MaxLines], bs[MaxLines:]
	}
	// lcs[i][j] is the length of the common subsequence of as[i:], bs[j:].
	lcs := make([][]int32, len(as)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(bs)+1)
	}
	for i := len(as) - 1; i >= 0; i-- {
		for j := len(bs) - 1; j >= 0; j-- {
			if as[i] == bs[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []Line
	i, j := 0, 0
	for i < len(as) && j < len(bs) {
		switch {
		case as[i] == bs[j]:
			out = append(out, Line{Same, as[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, Line{Removed, as[i]})
			i++
		default:
			out = append(out, Line{Added, bs[j]})
			j++
		}
	}
	for ; i < len(as); i++ {
		out = append(out, Line{Removed, as[i]})
	}
	for ; j < len(bs); j++ {
		out = append(out, Line{Added, bs[j]})
	}
	for _, l := range tailA {
		out = append(out, Line{Removed, l})
	}
	for _, l := range tailB {
		out = append(out, Line{Added, l})
	}
	return out
}

// Changed reports whether a diff holds any change.
func Changed(d []Line) bool {
	for _, l := range d {
		if l.Op != Same {
			return true
		}
	}
	return false
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(strings.ReplaceAll(s, "\r\n", "\n"), "\n"), "\n")
}
