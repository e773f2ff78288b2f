package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Health is what the health endpoints ask; NewInstance wires it to the
// store and the delivery worker. A nil function is a check that passes.
type Health struct {
	// Database checks that the database answers.
	Database func(context.Context) error
	// Delivery reports on the delivery worker.
	Delivery func(context.Context) (DeliveryHealth, error)
	// Now is the clock ages are measured with; default time.Now.
	Now func() time.Time
}

// DeliveryHealth is the state of the delivery worker and its queue.
type DeliveryHealth struct {
	Running   bool      // the worker runs
	LastTurn  time.Time // its loop last looked for work (at least every poll, 500 ms)
	Queued    int       // deliveries waiting
	OldestDue time.Time // the longest-waiting due delivery fell due then; zero if none
}

// stalledAfter is how long the worker's loop may go without a turn before
// it is reported stalled: it turns at least twice a second while it runs.
const stalledAfter = 30 * time.Second

func (h Health) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

// healthz answers 200 "ok" when the database answers, 503 otherwise.
func (h Health) healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if h.Database != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			defer cancel()
			if err := h.Database(ctx); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("database unavailable\n"))
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
}

// deliveryReport is the JSON of /healthz/delivery.
type deliveryReport struct {
	// Worker is "running", "stalled" (its loop has not turned for 30 s)
	// or "stopped".
	Worker string `json:"worker"`
	// LastTurn is when the worker's loop last looked for work.
	LastTurn string `json:"last_turn,omitempty"`
	// Queued counts the deliveries waiting.
	Queued int `json:"queued"`
	// BehindSeconds is how long the longest-waiting due delivery has
	// been due: how far behind the worker is. 0 when it keeps up.
	BehindSeconds float64 `json:"behind_seconds"`
}

// delivery answers the worker's state as JSON: 200 while it runs, 503 when
// it is stopped or stalled.
func (h Health) delivery() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if h.Delivery == nil {
			writeJSON(w, http.StatusOK, deliveryReport{Worker: "running"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		d, err := h.Delivery(ctx)
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "database unavailable"})
			return
		}
		now := h.now()
		rep := deliveryReport{Worker: "running", Queued: d.Queued}
		if !d.LastTurn.IsZero() {
			rep.LastTurn = d.LastTurn.UTC().Format(time.RFC3339)
		}
		if !d.OldestDue.IsZero() {
			rep.BehindSeconds = max(now.Sub(d.OldestDue), 0).Seconds()
		}
		status := http.StatusOK
		switch {
		case !d.Running:
			rep.Worker, status = "stopped", http.StatusServiceUnavailable
		case now.Sub(d.LastTurn) > stalledAfter:
			rep.Worker, status = "stalled", http.StatusServiceUnavailable
		}
		writeJSON(w, status, rep)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
