// Package server wires the HTTP side of a Coppice process: routes.go is the
// only list of routes; middleware gives every request an id, a logger, an
// access log line and panic recovery; Run serves until the context ends and
// then shuts down gracefully. It holds no handlers of its own beyond
// /healthz.
package server
