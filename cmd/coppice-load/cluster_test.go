package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Several serve processes share a database on PostgreSQL only: asked for
// two on an SQLite file, the tool refuses before it starts anything.
func TestClusterOfSeveralProcessesNeedsPostgreSQL(t *testing.T) {
	t.Parallel()
	_, err := startCluster(context.Background(), http.DefaultClient, 2, "/nonexistent/coppice", t.TempDir()+"/load.db", "", io.Discard)
	if err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Fatalf("startCluster(2, SQLite file) = %v, want a refusal that names postgres://", err)
	}
}

// With several processes each post goes to the next process's own address
// and carries the base URL's host, which its signature covers; with one,
// to the base URL itself.
func TestClusterRoutesPostsToEachProcessInTurn(t *testing.T) {
	t.Parallel()
	c := &cluster{URL: "http://127.0.0.1:9000", servers: []*server{{URL: "http://127.0.0.1:9001"}, {URL: "http://127.0.0.1:9002"}}}
	for i, want := range []string{"http://127.0.0.1:9001/inbox", "http://127.0.0.1:9002/inbox", "http://127.0.0.1:9001/inbox"} {
		target, host := c.route(i, "/inbox")
		if target != want || host != "127.0.0.1:9000" {
			t.Errorf("route(%d) = %s with Host %q, want %s with Host 127.0.0.1:9000", i, target, host, want)
		}
	}
	one := &cluster{URL: "http://127.0.0.1:9001", servers: []*server{{URL: "http://127.0.0.1:9001"}}}
	if target, host := one.route(5, "/inbox"); target != "http://127.0.0.1:9001/inbox" || host != "" {
		t.Errorf("one process: route = %s with Host %q, want the base URL and no Host", target, host)
	}
}
