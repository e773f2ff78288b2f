// Package metrics holds the Prometheus metrics of a Coppice process: the
// collectors, the values they read at scrape time, and the handler that
// exposes them. Nothing in it is global: cmd/coppice makes one Registry,
// hands it to New, and passes the *Metrics down through constructors. A nil
// *Metrics records nothing, so tests that do not look at metrics pass nil.
//
// It must not decide anything or write to the database; the values it reads
// at scrape time come from functions the wiring gives it.
package metrics
