package media

import (
	"archive/zip"
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// minimalPDF is a small but well-formed PDF with one empty page.
const minimalPDF = "%PDF-1.4\n" +
	"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
	"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n" +
	"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >> endobj\n" +
	"trailer << /Root 1 0 R >>\n%%EOF\n"

func newStore(t *testing.T, maxBytes int64) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "media")
	s, err := NewStore(dir, maxBytes)
	if err != nil {
		t.Fatalf("NewStore(%q, %d) = %v", dir, maxBytes, err)
	}
	return s, dir
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 2, color.NRGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatalf("encode png: %v", err)
	}
	return b.Bytes()
}

type zipEntry struct {
	name, body string
}

// zipBytes builds a ZIP archive; the first entry is stored uncompressed,
// as ODF and EPUB require for "mimetype".
func zipBytes(t *testing.T, entries ...zipEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i, e := range entries {
		method := zip.Deflate
		if i == 0 {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: method})
		if err != nil {
			t.Fatalf("zip entry %q: %v", e.name, err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatalf("zip entry %q: %v", e.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("close zip: %v", err)
	}
	return b.Bytes()
}

var storedName = regexp.MustCompile(`^([0-9a-f]{2})/([0-9a-f]{64})\.[a-z]+$`)

// storedFiles walks dir and returns every non-directory entry, relative
// and slash-separated. It fails the test for anything that is not a
// content-addressed file in its hash-prefix folder.
func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if m := storedName.FindStringSubmatch(rel); m == nil || m[1] != m[2][:2] || !d.Type().IsRegular() {
			t.Errorf("stray file %q in media directory", rel)
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	slices.Sort(files)
	return files
}
