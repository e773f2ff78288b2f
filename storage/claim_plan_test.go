package storage

import (
	"context"
	"strings"
	"testing"
)

// TestClaimSeeksItsIndexes (FLT-13): every query of a claim seeks an
// index range bounded by what it claims, so its cost does not grow with
// the queue; BenchmarkClaimDeliveries measures it.
func TestClaimSeeksItsIndexes(t *testing.T) {
	t.Parallel()
	st := openForCommit(t)
	for _, tt := range []struct {
		name, query string
		want        []string
	}{
		{"rows in flight", busyHostsQuery, []string{"deliveries_claimed (claimed_until>?)"}},
		{"due hosts", dueHostsQuery, []string{"deliveries_host_due (state=? AND host>?)", "deliveries_host_due (state=? AND host=? AND next_attempt_at<?)"}},
		{"due rows of a host", hostDueQuery, []string{"deliveries_host_due (state=? AND host=? AND next_attempt_at<?)"}},
	} {
		rows, err := st.read.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+tt.query, 1, 2, 3)
		if err != nil {
			t.Fatalf("plan of %s: %v", tt.name, err)
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
		got := strings.Join(plan, "; ")
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("plan of %s: %q, want it to seek %s", tt.name, got, w)
			}
		}
		// The walk's first step, MIN(host) after an equality on state, is
		// one seek, though its plan names only state.
		rest := strings.Replace(got, "SETUP; SEARCH deliveries USING COVERING INDEX deliveries_host_due (state=?)", "", 1)
		if strings.Contains(rest, "SCAN deliveries") || strings.Contains(rest, "deliveries_host_due (state=?)") {
			t.Errorf("plan of %s: %q reads the whole queue", tt.name, got)
		}
	}
}
