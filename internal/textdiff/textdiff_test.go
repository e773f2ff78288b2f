package textdiff

import (
	"strings"
	"testing"
)

func render(d []Line) string {
	var b strings.Builder
	for _, l := range d {
		b.WriteByte(byte(l.Op))
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestLines(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"equal", "a\nb\n", "a\nb\n", " a\n b\n"},
		{"a line added", "a\nc\n", "a\nb\nc\n", " a\n+b\n c\n"},
		{"a line removed", "a\nb\nc", "a\nc", " a\n-b\n c\n"},
		{"a line changed", "seed\nrye\nbeans", "seed\noats\nbeans", " seed\n-rye\n+oats\n beans\n"},
		{"from nothing", "", "new\npage", "+new\n+page\n"},
		{"to nothing", "old", "", "-old\n"},
		{"CRLF is a line break", "a\r\nb", "a\nb", " a\n b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(Lines(tt.a, tt.b)); got != tt.want {
				t.Errorf("Lines(%q, %q) =\n%s\nwant\n%s", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

// TestLinesRebuildsBothSides: for any pair, the kept and removed lines are
// the first text and the kept and added lines the second.
func TestLinesRebuildsBothSides(t *testing.T) {
	pairs := [][2]string{
		{"a\nb\nc\nd\ne", "a\nx\nc\ny\ne\nf"},
		{"1\n2\n3\n4\n5\n6", "6\n5\n4\n3\n2\n1"},
		{strings.Repeat("same\n", 50), strings.Repeat("same\n", 49) + "other\n"},
	}
	for _, p := range pairs {
		var a, b []string
		for _, l := range Lines(p[0], p[1]) {
			if l.Op != Added {
				a = append(a, l.Text)
			}
			if l.Op != Removed {
				b = append(b, l.Text)
			}
		}
		if strings.Join(a, "\n") != strings.TrimSuffix(p[0], "\n") || strings.Join(b, "\n") != strings.TrimSuffix(p[1], "\n") {
			t.Errorf("Lines(%q, %q) does not rebuild both sides: %q / %q", p[0], p[1], a, b)
		}
	}
}

func FuzzLines(f *testing.F) {
	f.Add("a\nb", "b\nc")
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 2000 || len(b) > 2000 {
			return
		}
		Lines(a, b)
	})
}
