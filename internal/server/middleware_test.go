package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"
)

// TestEveryLineOfARequestCarriesItsID: an error logged by a handler, a
// recovered panic and the access line all carry the request_id the client
// got in X-Request-Id, and the access line names the route pattern.
func TestEveryLineOfARequestCarriesItsID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil)))
	r := mux.NewRouter()
	r.Use(noteRoute)
	r.HandleFunc("/c/{name}/broken", func(w http.ResponseWriter, r *http.Request) {
		log.ErrorContext(r.Context(), "web request", "err", "disk on fire")
		http.Error(w, "internal error", http.StatusInternalServerError)
	})
	r.HandleFunc("/c/{name}/panics", func(http.ResponseWriter, *http.Request) { panic("bug") })
	srv := httptest.NewServer(Middleware(r, log, nil))
	defer srv.Close()

	for _, tt := range []struct {
		path, route, errMsg string
	}{
		{"/c/seeds/broken", "/c/{name}/broken", "web request"},
		{"/c/seeds/panics", "/c/{name}/panics", "panic"},
		{"/nowhere", "", ""},
	} {
		buf.Reset()
		res, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		id := res.Header.Get("X-Request-Id")
		if id == "" {
			t.Fatalf("GET %s: no X-Request-Id", tt.path)
		}
		var sawError, sawAccess bool
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			if m["request_id"] != id {
				t.Errorf("GET %s: line %v has request_id %v, want %s", tt.path, m["msg"], m["request_id"], id)
			}
			switch m["msg"] {
			case tt.errMsg:
				sawError = m["level"] == "ERROR"
			case "request":
				sawAccess = m["level"] == "INFO" && m["route"] == tt.route && m["method"] == "GET" &&
					m["status"] == float64(res.StatusCode) && m["duration"] != nil
				if !sawAccess {
					t.Errorf("GET %s: access line %v, want INFO with route %q and status %d", tt.path, m, tt.route, res.StatusCode)
				}
			}
		}
		if tt.errMsg != "" && !sawError {
			t.Errorf("GET %s: no ERROR line %q in %s", tt.path, tt.errMsg, buf.String())
		}
		if !sawAccess {
			t.Errorf("GET %s: no access line in %s", tt.path, buf.String())
		}
	}
}
