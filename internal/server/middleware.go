package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/coppice-dev/coppice/internal/metrics"
	"github.com/gorilla/mux"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	routeKey
)

// RequestID returns the id the middleware gave the request, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// matched is where the router notes the pattern of the route it chose, so
// the middleware around it can log and count requests by route.
type matched struct{ route string }

// noteRoute is a router middleware: it records the matched route's path
// template ("/c/{name}") for the access log and the metrics.
func noteRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m, ok := r.Context().Value(routeKey).(*matched); ok {
			if rt := mux.CurrentRoute(r); rt != nil {
				if tpl, err := rt.GetPathTemplate(); err == nil {
					m.route = tpl
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Middleware wraps h (the router of Routes) with a request id, panic
// recovery, an access log line at Info per request and the HTTP metrics
// (m may be nil). The id is sent back in X-Request-Id; give the process's
// logger a LogHandler so every line logged with the request's context
// carries it.
func Middleware(h http.Handler, log *slog.Logger, m *metrics.Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var b [8]byte
		_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux
		id := hex.EncodeToString(b[:])
		route := &matched{}
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey, id), routeKey, route)
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(ctx, "panic", "method", r.Method, "path", r.URL.Path, "err", p)
				if sw.status == 0 {
					http.Error(sw, "internal error", http.StatusInternalServerError)
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK // nothing written: net/http sends 200
			}
			took := time.Since(start)
			log.InfoContext(ctx, "request", "method", r.Method, "route", route.route, "path", r.URL.Path,
				"status", status, "bytes", sw.bytes, "duration", took)
			m.HTTPRequest(r.Method, route.route, status, took)
		}()
		h.ServeHTTP(sw, r)
	})
}

// LogHandler wraps a slog handler so that every record logged with a
// request's context carries the request's id as request_id: the error
// lines of handlers, adapters and the access log alike.
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
