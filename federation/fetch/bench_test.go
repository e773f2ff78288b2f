package fetch

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// BenchmarkPost posts a delivery-sized body (2.5 KB, with a 600-byte
// Signature header) to a loopback peer that answers 202, from 8
// goroutines on 2 cores (the delivery worker's PerHost), with a Poster and
// with NewClient's client as the worker used it (no Timeout of its own).
// The peer runs in the same process: ns/op is the CPU of both sides
// divided by the cores, so the difference between the two is the
// clients'.
func BenchmarkPost(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	body := bytes.Repeat([]byte("x"), 2500)
	signature := strings.Repeat("s", 600)
	client := NewClient(Options{AllowPrivate: true})
	client.Timeout = 0
	for _, c := range []struct {
		name   string
		client interface {
			Do(*http.Request) (*http.Response, error)
			CloseIdleConnections()
		}
	}{
		{"Poster", NewPoster(Options{AllowPrivate: true})},
		{"NewClient", client},
	} {
		b.Run(c.name, func(b *testing.B) {
			defer c.client.CloseIdleConnections()
			b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, err := http.NewRequest(http.MethodPost, srv.URL+"/inbox", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					req.Header.Set("Content-Type", "application/activity+json")
					req.Header.Set("Signature", signature)
					resp, err := c.client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
