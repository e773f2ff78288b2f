package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// DefaultMaxBytes is the upload limit used when NewStore is given none.
const DefaultMaxBytes = 20 << 20

// Errors returned by a Store.
var (
	// ErrTooLarge means an upload was longer than the store's limit.
	ErrTooLarge = errors.New("file too large")
	// ErrType means an upload's bytes are not of an allowed type, or do
	// not match the type its name claims.
	ErrType = errors.New("file type not allowed")
	// ErrNotFound means no stored file has the given hash and extension,
	// or the hash or extension is malformed.
	ErrNotFound = errors.New("file not found")
)

// Store keeps files under dir/<first 2 hex of sha256>/<sha256 hex><ext>.
// It is safe for concurrent use.
type Store struct {
	dir      string
	maxBytes int64
}

// File is a stored file.
type File struct {
	// Hash is the lower-case hex SHA-256 of the content.
	Hash string
	// Size is the content length in bytes.
	Size int64
	// ContentType is the sniffed type the file is served with, never the
	// client's claim.
	ContentType string
	// Ext is the extension of the sniffed type, such as ".pdf".
	Ext string
	// Name is a safe display file name derived from the uploaded name:
	// base name only, no path separators or control characters, no
	// leading dots, at most 120 bytes, and ending in Ext; "file"+Ext when
	// nothing of the uploaded name is left.
	Name string
}

// NewStore returns a store keeping files under dir, which it creates
// (mode 0o750) if needed. Uploads longer than maxBytes are refused; when
// maxBytes ≤ 0 the limit is DefaultMaxBytes.
func NewStore(dir string, maxBytes int64) (*Store, error) {
	if dir == "" {
		return nil, errors.New("create media store: empty directory")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create media directory: %w", err)
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	return &Store{dir: dir, maxBytes: maxBytes}, nil
}

// Save reads an upload from r, checks its type by content and stores it
// under its hash. An upload longer than the limit gives ErrTooLarge, one of
// a type outside the allow-list ErrType; either way nothing is left on disk.
// Saving the same content twice keeps one file and is not an error.
// claimedName is used only to derive File.Name, to pick among .txt, .md and
// .csv for plain text, and to refuse a file whose name claims an image it is
// not; it never reaches the filesystem.
func (s *Store) Save(ctx context.Context, r io.Reader, claimedName string) (File, error) {
	if err := ctx.Err(); err != nil {
		return File{}, fmt.Errorf("save file: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, ".upload-*")
	if err != nil {
		return File{}, fmt.Errorf("save file: %w", err)
	}
	tmpName := tmp.Name()
	kept := false
	defer func() {
		if !kept {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()

	h := sha256.New()
	head := &headWriter{max: sniffLen}
	// One byte past the limit tells a file of exactly maxBytes from a
	// longer one.
	src := io.LimitReader(ctxReader{ctx, r}, min(s.maxBytes, math.MaxInt64-1)+1)
	n, err := io.Copy(io.MultiWriter(tmp, h, head), src)
	if err != nil {
		return File{}, fmt.Errorf("save file: %w", err)
	}
	if n > s.maxBytes {
		return File{}, fmt.Errorf("save file: more than %d bytes: %w", s.maxBytes, ErrTooLarge)
	}

	claimedExt := strings.ToLower(path.Ext(strings.TrimRight(baseName(claimedName), ". ")))
	ext, err := sniff(head.buf, tmp, n, claimedExt)
	if err != nil {
		return File{}, fmt.Errorf("save file: %w", err)
	}
	k, _ := kindOf(ext)
	f := File{
		Hash:        hex.EncodeToString(h.Sum(nil)),
		Size:        n,
		ContentType: k.contentType,
		Ext:         ext,
		Name:        safeName(claimedName, ext),
	}

	if err := tmp.Chmod(0o640); err != nil {
		return File{}, fmt.Errorf("save file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return File{}, fmt.Errorf("save file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return File{}, fmt.Errorf("save file: %w", err)
	}
	if err := s.place(filepath.Base(tmpName), f.Hash, f.Ext); err != nil {
		return File{}, fmt.Errorf("save file %s: %w", f.Hash, err)
	}
	kept = true
	return f, nil
}

// place moves the temporary file tmp (a name directly under dir) to its
// content-addressed name. Only names built from the hash are used, and all
// of them through an os.Root, so nothing outside dir can be touched.
func (s *Store) place(tmp, hash, ext string) error {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.MkdirAll(hash[:2], 0o750); err != nil {
		return err
	}
	final := path.Join(hash[:2], hash+ext)
	if fi, err := root.Lstat(final); err == nil && fi.Mode().IsRegular() {
		// Same content already stored; the name is the content.
		return root.Remove(tmp)
	}
	// rename(2) replaces atomically, so a concurrent upload of the same
	// bytes leaves one complete file either way.
	return root.Rename(tmp, final)
}

// Open opens the stored file with the given hash (64 lower-case hex
// digits) and extension (one of the allowed types). A malformed hash or
// extension, or a file that is not stored, gives ErrNotFound.
func (s *Store) Open(hash, ext string) (*os.File, error) {
	if !isHash(hash) {
		return nil, fmt.Errorf("open file: malformed hash: %w", ErrNotFound)
	}
	if _, ok := kindOf(ext); !ok {
		return nil, fmt.Errorf("open file %s: extension %q: %w", hash, ext, ErrNotFound)
	}
	f, err := os.OpenInRoot(s.dir, path.Join(hash[:2], hash+ext))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open file %s%s: %w", hash, ext, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open file %s%s: %w", hash, ext, err)
	}
	return f, nil
}

// isHash reports whether s is a SHA-256 in lower-case hex.
func isHash(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// baseName is the last element of a claimed name, taking both slash and
// backslash as separators.
func baseName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		return name[i+1:]
	}
	return name
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	buf []byte
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.buf); room > 0 {
		w.buf = append(w.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// ctxReader stops reading once its context is done, so a slow upload can
// be abandoned.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
