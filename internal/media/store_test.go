package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestSaveOpenRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		claimed         string
		content         []byte
		wantType        string
		wantExt         string
		wantDisplayName string
	}{
		{"a small PDF", "Minutes 2024.pdf", []byte(minimalPDF), "application/pdf", ".pdf", "Minutes 2024.pdf"},
		{"a PNG made by image/png", "logo.PNG", pngBytes(t), "image/png", ".png", "logo.png"},
		{"a text file", "notes.txt", []byte("Agenda\n- budget\n- ünïcödé\n"), "text/plain; charset=utf-8", ".txt", "notes.txt"},
		{"a Markdown file", "README.md", []byte("# Resources\n\nSee *below*.\n"), "text/plain; charset=utf-8", ".md", "README.md"},
		{"a CSV file", "members.csv", []byte("name,role\nAda,host\n"), "text/csv; charset=utf-8", ".csv", "members.csv"},
		{"a text file without extension", "LICENSE", []byte("Permission is granted.\n"), "text/plain; charset=utf-8", ".txt", "LICENSE.txt"},
		{"a PDF with a wrong extension", "slides.pptx", []byte(minimalPDF + "x"), "application/pdf", ".pdf", "slides.pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, dir := newStore(t, 0)
			f, err := s.Save(t.Context(), bytes.NewReader(tt.content), tt.claimed)
			if err != nil {
				t.Fatalf("Save(%q) = %v", tt.claimed, err)
			}
			sum := sha256.Sum256(tt.content)
			want := File{
				Hash:        hex.EncodeToString(sum[:]),
				Size:        int64(len(tt.content)),
				ContentType: tt.wantType,
				Ext:         tt.wantExt,
				Name:        tt.wantDisplayName,
			}
			if f != want {
				t.Errorf("Save(%q) = %+v, want %+v", tt.claimed, f, want)
			}
			rc, err := s.Open(f.Hash, f.Ext)
			if err != nil {
				t.Fatalf("Open(%q, %q) = %v", f.Hash, f.Ext, err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("read stored file: %v", err)
			}
			if !bytes.Equal(got, tt.content) {
				t.Errorf("Open(%q, %q) read %d bytes, want the %d saved", f.Hash, f.Ext, len(got), len(tt.content))
			}
			wantFiles := []string{f.Hash[:2] + "/" + f.Hash + f.Ext}
			if got := storedFiles(t, dir); !slices.Equal(got, wantFiles) {
				t.Errorf("files on disk = %q, want %q", got, wantFiles)
			}
		})
	}
}

func TestSaveSameContentTwiceKeepsOneFile(t *testing.T) {
	t.Parallel()
	s, dir := newStore(t, 0)
	content := []byte(minimalPDF)
	first, err := s.Save(t.Context(), bytes.NewReader(content), "a.pdf")
	if err != nil {
		t.Fatalf("first Save = %v", err)
	}
	second, err := s.Save(t.Context(), bytes.NewReader(content), "b.pdf")
	if err != nil {
		t.Fatalf("second Save = %v", err)
	}
	if first.Hash != second.Hash {
		t.Errorf("hashes differ: got %s and %s, want equal", first.Hash, second.Hash)
	}
	if second.Name != "b.pdf" {
		t.Errorf("second Save name = %q, want %q", second.Name, "b.pdf")
	}
	if got := storedFiles(t, dir); len(got) != 1 {
		t.Errorf("files on disk = %q, want one", got)
	}
}

func TestSaveSameContentConcurrently(t *testing.T) {
	t.Parallel()
	s, dir := newStore(t, 0)
	content := pngBytes(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := s.Save(t.Context(), bytes.NewReader(content), "same.png")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Save = %v, want nil", err)
		}
	}
	if got := storedFiles(t, dir); len(got) != 1 {
		t.Errorf("files on disk = %q, want one", got)
	}
}

// CON-05: uploads are cut off at the limit and leave nothing behind.
func TestSaveSizeLimit(t *testing.T) {
	t.Parallel()
	const limit = 1024
	tests := []struct {
		name    string
		size    int
		wantErr error
	}{
		{"exactly the limit", limit, nil},
		{"one byte over the limit", limit + 1, ErrTooLarge},
		{"far over the limit", 10 * limit, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, dir := newStore(t, limit)
			content := strings.Repeat("a", tt.size)
			_, err := s.Save(t.Context(), strings.NewReader(content), "big.txt")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Save(%d bytes) = %v, want %v", tt.size, err, tt.wantErr)
			}
			files := storedFiles(t, dir)
			if tt.wantErr != nil && len(files) != 0 {
				t.Errorf("files on disk after %v = %q, want none", err, files)
			}
			if tt.wantErr == nil && len(files) != 1 {
				t.Errorf("files on disk = %q, want one", files)
			}
		})
	}
}

func TestNewStoreDefaultLimit(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 0)
	if s.maxBytes != DefaultMaxBytes {
		t.Errorf("NewStore(dir, 0) limit = %d, want %d", s.maxBytes, DefaultMaxBytes)
	}
	fi, err := os.Stat(s.dir)
	if err != nil {
		t.Fatalf("stat media dir: %v", err)
	}
	if got := fi.Mode().Perm() &^ 0o750; got != 0 {
		t.Errorf("media dir mode = %v, want no bits beyond 0o750", fi.Mode().Perm())
	}
}

func TestSaveCancelledContext(t *testing.T) {
	t.Parallel()
	s, dir := newStore(t, 0)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Save(ctx, strings.NewReader("hello"), "a.txt")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a cancelled context = %v, want %v", err, context.Canceled)
	}
	if got := storedFiles(t, dir); len(got) != 0 {
		t.Errorf("files on disk = %q, want none", got)
	}
}

// CON-03: the claimed name never reaches the filesystem.
func TestSaveHostileNames(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 496) + ".pdf"
	tests := []struct {
		name    string
		claimed string
		want    string
	}{
		{"unix traversal", "../../etc/passwd", "passwd.pdf"},
		{"windows traversal", `..\..\x.pdf`, "x.pdf"},
		{"absolute path", "/abs/path.pdf", "path.pdf"},
		{"NUL byte", "a\x00b.pdf", "ab.pdf"},
		{"only spaces", "   ", "file.pdf"},
		{"dot file", ".htaccess", "htaccess.pdf"},
		{"500-byte name", long, strings.Repeat("x", 116) + ".pdf"},
		{"trailing separator", "dir/", "file.pdf"},
		{"right-to-left override", "invoice\u202efdp.exe", "invoicefdp.pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, dir := newStore(t, 0)
			f, err := s.Save(t.Context(), strings.NewReader(minimalPDF), tt.claimed)
			if err != nil {
				t.Fatalf("Save(%q) = %v", tt.claimed, err)
			}
			if f.Name != tt.want {
				t.Errorf("Save(%q) name = %q, want %q", tt.claimed, f.Name, tt.want)
			}
			want := []string{f.Hash[:2] + "/" + f.Hash + ".pdf"}
			if got := storedFiles(t, dir); !slices.Equal(got, want) {
				t.Errorf("files on disk = %q, want %q", got, want)
			}
			// Nothing may appear next to the media directory either.
			siblings, err := os.ReadDir(filepath.Dir(dir))
			if err != nil {
				t.Fatalf("read parent of media dir: %v", err)
			}
			if len(siblings) != 1 {
				t.Errorf("parent of media dir holds %d entries, want 1", len(siblings))
			}
		})
	}
}

func TestOpenMalformed(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 0)
	f, err := s.Save(t.Context(), strings.NewReader(minimalPDF), "a.pdf")
	if err != nil {
		t.Fatalf("Save = %v", err)
	}
	tests := []struct {
		name, hash, ext string
	}{
		{"path traversal as hash", "../x", ".pdf"},
		{"upper-case hash", strings.ToUpper(f.Hash), ".pdf"},
		{"63-character hash", f.Hash[:63], ".pdf"},
		{"65-character hash", f.Hash + "0", ".pdf"},
		{"traversal padded to 64 characters", "../../../../" + f.Hash[12:], ".pdf"},
		{"empty hash", "", ".pdf"},
		{"extension outside the allow-list", f.Hash, ".html"},
		{"extension with a path", f.Hash, ".pdf/../../x"},
		{"empty extension", f.Hash, ""},
		{"right hash, other allowed extension", f.Hash, ".png"},
		{"unknown hash", strings.Repeat("ab", 32), ".pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := s.Open(tt.hash, tt.ext)
			if err == nil {
				rc.Close()
			}
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Open(%q, %q) = %v, want %v", tt.hash, tt.ext, err, ErrNotFound)
			}
		})
	}
}
