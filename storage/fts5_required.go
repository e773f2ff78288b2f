//go:build !sqlite_fts5

package storage

// Coppice's search needs SQLite's FTS5 module, which go-sqlite3 compiles in
// only with the build tag sqlite_fts5. Without the tag the build stops
// here instead of failing at run time with "no such module: fts5". The
// Makefile and .ci/run set GOFLAGS="-tags=sqlite_fts5"; or run
// `go env -w GOFLAGS=-tags=sqlite_fts5` once.
var _ = buildWithTagSqliteFTS5 // undefined on purpose: build with -tags sqlite_fts5
