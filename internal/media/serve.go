package media

import (
	"fmt"
	"net/http"
)

// Serve writes the stored file with the given hash and extension to w,
// with headers that keep a browser from running it: its allow-listed
// Content-Type, nosniff, a Content-Security-Policy of default-src 'none'
// and sandbox, and Content-Disposition: inline for images and PDF,
// attachment for everything else, naming the file by a cleaned form of
// displayName. The content never changes under a hash, so it is cached as
// immutable. Range and conditional requests are answered by
// http.ServeContent.
//
// Serve returns an error, wrapping ErrNotFound when there is no such file,
// only before it has written anything; the caller maps it to a response.
func (s *Store) Serve(w http.ResponseWriter, r *http.Request, hash, ext, displayName string) error {
	f, err := s.Open(hash, ext)
	if err != nil {
		return fmt.Errorf("serve file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("serve file %s%s: %w", hash, ext, err)
	}
	k, _ := kindOf(ext) // Open checked ext against the allow-list
	disposition := "attachment"
	if k.inline {
		disposition = "inline"
	}
	h := w.Header()
	h.Set("Content-Type", k.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Disposition", contentDisposition(disposition, safeName(displayName, ext)))
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+hash+`"`)
	http.ServeContent(w, r, "", fi.ModTime(), f)
	return nil
}
