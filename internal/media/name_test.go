package media

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, claimed, ext, want string
	}{
		{"plain name keeps its stem", "Budget 2025.xlsx", ".xlsx", "Budget 2025.xlsx"},
		{"extension is forced to the sniffed one", "photo.jpg", ".png", "photo.png"},
		{"only the last extension goes", "archive.tar.gz", ".zip", "archive.tar.zip"},
		{"unix path is cut to its base", "../../etc/passwd", ".txt", "passwd.txt"},
		{"windows path is cut to its base", `C:\Users\ada\cv.pdf`, ".pdf", "cv.pdf"},
		{"leading dots go", "...hidden.txt", ".txt", "hidden.txt"},
		{"only dots leaves the default", "..", ".txt", "file.txt"},
		{"empty name leaves the default", "", ".pdf", "file.pdf"},
		{"control characters go", "a\tb\nc\x7f.txt", ".txt", "abc.txt"},
		{"line separators become spaces", "a\u2028b.txt", ".txt", "a b.txt"},
		{"invalid UTF-8 goes", "caf\xe9.txt", ".txt", "caf.txt"},
		{"reserved windows characters become underscores", `a"b*c:d<e>f?g|h.txt`, ".txt", "a_b_c_d_e_f_g_h.txt"},
		{"trailing dots and spaces go", "report. . .pdf", ".pdf", "report.pdf"},
		{"non-ASCII is kept", "Über résumé.pdf", ".pdf", "Über résumé.pdf"},
		{"long multibyte name is cut on a rune boundary", strings.Repeat("é", 100) + ".pdf", ".pdf", strings.Repeat("é", 58) + ".pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := safeName(tt.claimed, tt.ext); got != tt.want {
				t.Errorf("safeName(%q, %q) = %q, want %q", tt.claimed, tt.ext, got, tt.want)
			}
		})
	}
}

func TestContentDisposition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, disposition, file, want string
	}{
		{"ASCII name", "inline", "a b.pdf", `inline; filename="a b.pdf"; filename*=UTF-8''a%20b.pdf`},
		{"non-ASCII name", "attachment", "Über.txt", `attachment; filename="_ber.txt"; filename*=UTF-8''%C3%9Cber.txt`},
		{"quote and backslash", "attachment", `a"b\c.txt`, `attachment; filename="a_b_c.txt"; filename*=UTF-8''a%22b%5Cc.txt`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := contentDisposition(tt.disposition, tt.file); got != tt.want {
				t.Errorf("contentDisposition(%q, %q) = %s, want %s", tt.disposition, tt.file, got, tt.want)
			}
		})
	}
}

// FuzzSafeName checks the display-name rules for any uploaded name. Seeds
// come from testdata/names.txt, one Go-quoted string a line.
func FuzzSafeName(f *testing.F) {
	file, err := os.Open("testdata/names.txt")
	if err != nil {
		f.Fatalf("open seeds: %v", err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, err := strconv.Unquote(line)
		if err != nil {
			f.Fatalf("seed %s: %v", line, err)
		}
		f.Add(name)
	}
	if err := sc.Err(); err != nil {
		f.Fatalf("read seeds: %v", err)
	}
	exts := []string{".pdf", ".png", ".jpg", ".txt", ".md", ".csv", ".docx", ".pptx", ".epub", ".zip"}
	f.Fuzz(func(t *testing.T, claimed string) {
		for _, ext := range exts {
			got := safeName(claimed, ext)
			switch {
			case strings.ContainsAny(got, "/\\\x00"):
				t.Errorf("safeName(%q, %q) = %q, has a separator or NUL", claimed, ext, got)
			case strings.HasPrefix(got, "."):
				t.Errorf("safeName(%q, %q) = %q, starts with a dot", claimed, ext, got)
			case !utf8.ValidString(got):
				t.Errorf("safeName(%q, %q) = %q, not valid UTF-8", claimed, ext, got)
			case len(got) > maxNameLen:
				t.Errorf("safeName(%q, %q) has %d bytes, want at most %d", claimed, ext, len(got), maxNameLen)
			case !strings.HasSuffix(got, ext) || len(got) == len(ext):
				t.Errorf("safeName(%q, %q) = %q, want a stem and the extension", claimed, ext, got)
			}
			for _, r := range got {
				if r < 0x20 || r == 0x7f {
					t.Errorf("safeName(%q, %q) = %q, has control character %U", claimed, ext, got, r)
				}
			}
		}
	})
}
