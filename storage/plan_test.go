package storage

import (
	"context"
	"strings"
	"testing"
)

// TestHotLookupsUseTheirIndexes: the per-request lookups of the inbox that
// filter on a column with a partial index use that index (SQLite uses a
// partial index only when the query implies its condition), and the read
// path finds the newest activity of an outbox in its index.
func TestHotLookupsUseTheirIndexes(t *testing.T) {
	t.Parallel()
	st := openForCommit(t)
	for _, tt := range []struct {
		name, query, index string
		args               []any
	}{
		{"actor by key id", actorByKeyIDQuery, "actors_key_id", []any{"https://remote.example/users/a#main-key"}},
		{"disown a key", disownKeyQuery, "actors_key_id", []any{"https://remote.example/users/a#main-key", "https://remote.example/users/b"}},
		// Every GET the read path answers from what it kept (issue 13).
		{"a community's version", communityVersionByNameQuery, "outbox_listed_live", []any{"seeds"}},
	} {
		rows, err := st.read.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+tt.query, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if got := strings.Join(plan, "; "); !strings.Contains(got, "INDEX "+tt.index+" (") {
			t.Errorf("plan of %s: %q, want it to use index %s", tt.name, got, tt.index)
		}
	}
}
