package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// paddedDoc returns a document with the given id of exactly size bytes.
func paddedDoc(id string, size int) []byte {
	head := fmt.Sprintf(`{"id":%q,"pad":"`, id)
	return []byte(head + strings.Repeat("x", size-len(head)-2) + `"}`)
}

func TestFetchSize(t *testing.T) {
	const maxBytes = 1 << 20
	p := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		doc := paddedDoc(selfURL(r), size)
		w.Header().Set("Content-Type", "application/activity+json")
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
			w.Write(doc)
			return
		}
		w.Write(doc[:len(doc)/2])
		w.(http.Flusher).Flush()
		w.Write(doc[len(doc)/2:])
	})
	f := testFetcher(t, nil, FetcherOptions{AllowPrivate: true})
	tests := []struct {
		name    string
		query   string
		wantErr bool
	}{
		{"exactly MaxBytes with Content-Length", fmt.Sprintf("size=%d", maxBytes), false},
		{"exactly MaxBytes chunked", fmt.Sprintf("size=%d&chunked=1", maxBytes), false},
		{"FET-05 MaxBytes+1 with Content-Length", fmt.Sprintf("size=%d", maxBytes+1), true},
		{"FET-05 MaxBytes+1 chunked", fmt.Sprintf("size=%d&chunked=1", maxBytes+1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := p.URL + "/big?" + tt.query
			body, _, err := f.Fetch(context.Background(), raw)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Fetch(%s) = %v, want a document", raw, err)
				}
				if len(body) != maxBytes {
					t.Errorf("Fetch(%s) returned %d bytes, want %d", raw, len(body), maxBytes)
				}
				return
			}
			fetchError(t, err, KindInvalid)
			want := "fetch " + raw + ": body too large (over 1048576 bytes)"
			if err.Error() != want {
				t.Errorf("Fetch(%s) = %q, want %q", raw, err, want)
			}
		})
	}
}

// gzipMember compresses b into one gzip member. Writes to a bytes.Buffer
// cannot fail, so neither can it; handlers may call it.
func gzipMember(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestFetchEncoding(t *testing.T) {
	// The bomb is a gzip multistream: a JSON head, then 100 members of
	// 1 MiB of zeros each (about 1 KiB each on the wire), then the tail.
	zeros := gzipMember(make([]byte, 1<<20))
	tail := gzipMember([]byte(`"}`))
	var acceptEncoding sync.Map
	p := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		acceptEncoding.Store(r.URL.Path, r.Header.Get("Accept-Encoding"))
		w.Header().Set("Content-Type", "application/activity+json")
		switch r.URL.Path {
		case "/bomb":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gzipMember([]byte(fmt.Sprintf(`{"id":%q,"pad":"`, selfURL(r)))))
			for range 100 {
				if _, err := w.Write(zeros); err != nil {
					return
				}
			}
			w.Write(tail)
		case "/small-gzip":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gzipMember([]byte(fmt.Sprintf(`{"id":%q}`, selfURL(r)))))
		case "/corrupt-gzip":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write([]byte("this is not gzip at all"))
		case "/brotli":
			w.Header().Set("Content-Encoding", "br")
			w.Write([]byte(fmt.Sprintf(`{"id":%q}`, selfURL(r))))
		}
	})
	f := testFetcher(t, nil, FetcherOptions{AllowPrivate: true})

	t.Run("FET-06 gzip bomb", func(t *testing.T) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, _, err := f.Fetch(context.Background(), p.URL+"/bomb")
		runtime.ReadMemStats(&after)
		fetchError(t, err, KindInvalid)
		if !strings.Contains(err.Error(), "body too large") {
			t.Errorf("Fetch(/bomb) = %v, want body too large", err)
		}
		if got, _ := acceptEncoding.Load("/bomb"); got != "gzip" {
			t.Errorf("Accept-Encoding = %q, want gzip, so that the transport decodes", got)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
			t.Errorf("Fetch(/bomb) allocated %d bytes, want at most 16 MiB", alloc)
		}
	})
	t.Run("small gzip document", func(t *testing.T) {
		body, _, err := f.Fetch(context.Background(), p.URL+"/small-gzip")
		if err != nil {
			t.Fatalf("Fetch(/small-gzip) = %v, want a document", err)
		}
		if !bytes.HasPrefix(body, []byte(`{"id":`)) {
			t.Errorf("Fetch(/small-gzip) = %q, want decoded JSON", body)
		}
	})
	t.Run("corrupt gzip", func(t *testing.T) {
		_, _, err := f.Fetch(context.Background(), p.URL+"/corrupt-gzip")
		fetchError(t, err, KindInvalid)
	})
	t.Run("content encoding the client did not ask for", func(t *testing.T) {
		_, _, err := f.Fetch(context.Background(), p.URL+"/brotli")
		fetchError(t, err, KindInvalid)
		want := "fetch " + p.URL + "/brotli: content encoding br is not supported"
		if err.Error() != want {
			t.Errorf("Fetch(/brotli) = %q, want %q", err, want)
		}
	})
}

func TestFetchSlowBody(t *testing.T) {
	stop := make(chan struct{})
	handlerDone := make(chan string, 2)
	p := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		defer func() { handlerDone <- r.URL.Path }()
		if r.URL.Path == "/silent" {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		w.WriteHeader(http.StatusOK)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-stop:
				return
			case <-tick.C:
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}
	})
	t.Cleanup(func() { close(stop) }) // runs before p.Close
	c := NewClient(Options{AllowPrivate: true, Timeout: 300 * time.Millisecond})
	t.Cleanup(c.CloseIdleConnections)
	f := NewFetcher(c, nil, FetcherOptions{AllowPrivate: true})

	tests := []struct{ name, path string }{
		{"FET-07 body trickled one byte every 50ms", "/trickle"},
		{"FET-07 no response headers", "/silent"},
	}
	for _, tt := range tests {
		path := tt.path
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, _, err := f.Fetch(context.Background(), p.URL+path)
			elapsed := time.Since(start)
			fetchError(t, err, KindUnreachable)
			if elapsed > 5*time.Second {
				t.Errorf("Fetch(%s) took %v, want about the 300ms timeout", path, elapsed)
			}
			// The peer's handler ends once the client has hung up.
			select {
			case got := <-handlerDone:
				if got != path {
					t.Errorf("handler for %s ended, want %s", got, path)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("handler for %s still running 5s after Fetch returned", path)
			}
		})
	}
}
