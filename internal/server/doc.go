// Package server wires a Coppice instance and its HTTP side: NewInstance
// builds the whole instance (community layer, federation, delivery worker,
// site and console) the one way `serve` and every test use; routes.go is
// the only list of routes; middleware gives every request an id, a logger,
// an access log line and panic recovery; Serve serves until the context
// ends and then shuts down gracefully. It holds no handlers of its own
// beyond /healthz.
package server
