package media

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestServeHeaders(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 0)
	tests := []struct {
		name            string
		claimed         string
		content         []byte
		displayName     string
		wantType        string
		wantDisposition string
	}{
		{"PDF is inline", "a.pdf", []byte(minimalPDF), "Minutes.pdf", "application/pdf",
			`inline; filename="Minutes.pdf"; filename*=UTF-8''Minutes.pdf`},
		{"PNG is inline", "a.png", pngBytes(t), "logo.png", "image/png",
			`inline; filename="logo.png"; filename*=UTF-8''logo.png`},
		{"text is an attachment", "a.txt", []byte("hello\n"), "notes.txt", "text/plain; charset=utf-8",
			`attachment; filename="notes.txt"; filename*=UTF-8''notes.txt`},
		{"ZIP is an attachment", "a.zip", zipBytes(t, zipEntry{"a.txt", "a"}), "bundle.zip", "application/zip",
			`attachment; filename="bundle.zip"; filename*=UTF-8''bundle.zip`},
		{"office document is an attachment", "a.docx", zipBytes(t, zipEntry{"[Content_Types].xml", ooxmlTypesWord}), "Plan.docx",
			"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			`attachment; filename="Plan.docx"; filename*=UTF-8''Plan.docx`},
		{"non-ASCII name is encoded", "a.csv", []byte("a,b\n"), "Grüße €.csv", "text/csv; charset=utf-8",
			`attachment; filename="Gr__e _.csv"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%E2%82%AC.csv`},
		{"hostile display name is cleaned", "b.txt", []byte("bye\n"), "../x\r\nSet-Cookie: a=b.html", "text/plain; charset=utf-8",
			`attachment; filename="xSet-Cookie_ a=b.txt"; filename*=UTF-8''xSet-Cookie_%20a%3Db.txt`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := s.Save(t.Context(), bytes.NewReader(tt.content), tt.claimed)
			if err != nil {
				t.Fatalf("Save(%q) = %v", tt.claimed, err)
			}
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/media/"+f.Hash+f.Ext, nil)
			if err := s.Serve(w, r, f.Hash, f.Ext, tt.displayName); err != nil {
				t.Fatalf("Serve = %v", err)
			}
			if w.Code != http.StatusOK {
				t.Errorf("status = %d, want %d", w.Code, http.StatusOK)
			}
			want := map[string]string{
				"Content-Type":            tt.wantType,
				"X-Content-Type-Options":  "nosniff",
				"Content-Security-Policy": "default-src 'none'; sandbox",
				"Content-Disposition":     tt.wantDisposition,
				"Cache-Control":           "public, max-age=31536000, immutable",
				"Etag":                    `"` + f.Hash + `"`,
			}
			for k, v := range want {
				if got := w.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if !bytes.Equal(w.Body.Bytes(), tt.content) {
				t.Errorf("body has %d bytes, want the %d saved", w.Body.Len(), len(tt.content))
			}
		})
	}
}

func TestServeRange(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 0)
	content := strings.Repeat("0123456789", 10)
	f, err := s.Save(t.Context(), strings.NewReader(content), "digits.txt")
	if err != nil {
		t.Fatalf("Save = %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Serve(w, r, f.Hash, f.Ext, "digits.txt"); err != nil {
			http.Error(w, "not found", http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Range", "bytes=10-19")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET with Range: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if resp.StatusCode != http.StatusPartialContent {
		t.Errorf("status = %d, want %d", resp.StatusCode, http.StatusPartialContent)
	}
	if got, want := string(body), content[10:20]; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	if got, want := resp.Header.Get("Content-Range"), "bytes 10-19/100"; got != want {
		t.Errorf("Content-Range = %q, want %q", got, want)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
}

func TestServeIfNoneMatch(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 0)
	f, err := s.Save(t.Context(), strings.NewReader(minimalPDF), "a.pdf")
	if err != nil {
		t.Fatalf("Save = %v", err)
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("If-None-Match", `"`+f.Hash+`"`)
	if err := s.Serve(w, r, f.Hash, f.Ext, "a.pdf"); err != nil {
		t.Fatalf("Serve = %v", err)
	}
	if w.Code != http.StatusNotModified {
		t.Errorf("status = %d, want %d", w.Code, http.StatusNotModified)
	}
}

func TestServeNotFound(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 0)
	tests := []struct {
		name, hash, ext string
	}{
		{"unknown hash", strings.Repeat("0", 64), ".pdf"},
		{"traversal as hash", "../../etc/passwd", ".txt"},
		{"HTML extension", strings.Repeat("0", 64), ".html"},
		{"SVG extension", strings.Repeat("0", 64), ".svg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			err := s.Serve(w, r, tt.hash, tt.ext, "x")
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Serve(%q, %q) = %v, want %v", tt.hash, tt.ext, err, ErrNotFound)
			}
			if len(w.Header()) != 0 || w.Body.Len() != 0 {
				t.Errorf("Serve(%q, %q) wrote headers %v and %d body bytes, want nothing", tt.hash, tt.ext, w.Header(), w.Body.Len())
			}
		})
	}
}
