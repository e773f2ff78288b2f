package federation

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// TestErrorsBecomeStatuses checks the one adapter that turns handler errors
// into responses.
func TestErrorsBecomeStatuses(t *testing.T) {
	h := &Handler{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter bool
	}{
		{"a rejection keeps its status", reject(http.StatusUnauthorized, "bad signature"), 401, false},
		{"not found", fmt.Errorf("community x: %w", community.ErrNotFound), 404, false},
		{"refused by the rules", &community.RefusedError{Reason: "locked"}, 403, false},
		{"invalid input", &community.InvalidError{Fields: map[string]string{"name": "bad"}}, 400, false},
		{"FLT-11 database busy", fmt.Errorf("record activity: %w", fmt.Errorf("%w: database is locked", storage.ErrBusy)), 503, true},
		{"anything else", errors.New("boom"), 500, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.serve(func(w http.ResponseWriter, r *http.Request) error { return tt.err }).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/inbox", nil))
			if rec.Code != tt.status || (rec.Header().Get("Retry-After") != "") != tt.retryAfter {
				t.Errorf("status %d Retry-After %q, want %d (retry %v)", rec.Code, rec.Header().Get("Retry-After"), tt.status, tt.retryAfter)
			}
		})
	}
}
