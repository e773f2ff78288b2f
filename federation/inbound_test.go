package federation

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// inboundCount records what the inbox tells its Inbound.
type inboundCount struct {
	mu               sync.Mutex
	begun, ended, at int
}

func (c *inboundCount) Begin() { c.mu.Lock(); c.begun++; c.at++; c.mu.Unlock() }
func (c *inboundCount) End()   { c.mu.Lock(); c.ended++; c.at--; c.mu.Unlock() }

// Every inbox request handled is begun and ended on Inbound, refused ones
// too, so the delivery worker's signatures give way to it and no more.
func TestInboxRequestsAreToldToInbound(t *testing.T) {
	rec := &inboundCount{}
	base, _ := url.Parse("https://coppice.test")
	h := New(nil, Options{IRIs: NewIRIs(base), Log: slog.New(slog.DiscardHandler), Inbound: rec})
	for range 3 {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/inbox", bytes.NewReader([]byte(`{"type":"Create"}`)))
		r.Header.Set("Content-Type", "application/activity+json")
		h.Inbox().ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("unsigned POST: status %d, want 401", w.Code)
		}
	}
	if rec.begun != 3 || rec.ended != 3 || rec.at != 0 {
		t.Errorf("Inbound saw %d begun, %d ended, %d still in flight; want 3, 3 and 0", rec.begun, rec.ended, rec.at)
	}
}
