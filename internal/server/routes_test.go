package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coppice-dev/coppice/internal/metrics"
	"github.com/coppice-dev/coppice/internal/server"
	"github.com/prometheus/client_golang/prometheus"
)

// logBuffer collects log lines written from the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer // mu guards buf
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// accessRoutes returns the route of every access line logged for path.
func (b *logBuffer) accessRoutes(t *testing.T, path string) []string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var routes []string
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "request" && m["path"] == path {
			r, _ := m["route"].(string)
			routes = append(routes, r)
		}
	}
	return routes
}

// TestConsoleRequestsAreNamedByTheirRoute (issue 11): the console's routes
// are in the one router, so the access log and the metrics name each
// console request by its own route pattern, not by a "/admin" prefix.
func TestConsoleRequestsAreNamedByTheirRoute(t *testing.T) {
	m := metrics.New(prometheus.NewRegistry())
	var logs logBuffer
	ti := newInstance(t, true, func(o *server.Options) {
		o.Metrics = m
		o.Log = slog.New(server.LogHandler(slog.NewJSONHandler(&logs, nil)))
	})
	tests := []struct {
		name, method, path, route string
		status                    int
	}{
		{"the login form", http.MethodGet, "/admin/login", "/admin/login", http.StatusOK},
		{"a page of one community, signed out", http.MethodGet, "/admin/communities/seedbreeders/members", "/admin/communities/{name}/members", http.StatusSeeOther},
		{"an action in one community, signed out", http.MethodPost, "/admin/communities/seedbreeders/members/ban", "/admin/communities/{name}/members/ban", http.StatusSeeOther},
		{"the console's root", http.MethodGet, "/admin", "/admin", http.StatusMovedPermanently},
		{"an unknown console path", http.MethodGet, "/admin/nowhere", "/admin/{path:.*}", http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"actor": {"https://remote.example/users/ann"}}.Encode()
			req, err := http.NewRequest(tt.method, ti.URL+tt.path, strings.NewReader(form))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := http.DefaultTransport.RoundTrip(req) // redirects are not followed
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("%s %s = %d, want %d", tt.method, tt.path, res.StatusCode, tt.status)
			}
			if got := logs.accessRoutes(t, tt.path); len(got) != 1 || got[0] != tt.route {
				t.Errorf("%s %s: access lines with routes %q, want one with %q", tt.method, tt.path, got, tt.route)
			}
			rec := httptest.NewRecorder()
			m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			want := `coppice_http_requests_total{method="` + tt.method + `",route="` + tt.route + `",status="` + strconv.Itoa(tt.status) + `"} 1`
			if !strings.Contains(rec.Body.String(), want) {
				t.Errorf("%s %s: metrics lack %s", tt.method, tt.path, want)
			}
		})
	}
}
