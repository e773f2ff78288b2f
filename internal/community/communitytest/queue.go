package communitytest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// Queued returns the deliveries due at now, as the inboxes each activity
// (by IRI) is queued for, sorted. It reads them the way the delivery
// worker claims them, with a lease of zero, so they stay due for the next
// call and for the worker.
func Queued(t testing.TB, st *storage.Store, now time.Time) map[string][]string {
	t.Helper()
	ctx := context.Background()
	ds, err := st.ClaimDeliveries(ctx, now, 0, 1<<20, 1<<20)
	if err != nil {
		t.Fatalf("read queued deliveries: %v", err)
	}
	iris := map[int64]string{}
	out := map[string][]string{}
	for _, d := range ds {
		iri, ok := iris[d.ActivityID]
		if !ok {
			a, err := st.OutboxActivityByID(ctx, d.ActivityID)
			if err != nil {
				t.Fatalf("read queued activity %d: %v", d.ActivityID, err)
			}
			iri, iris[d.ActivityID] = a.IRI, a.IRI
		}
		out[iri] = append(out[iri], d.Inbox)
	}
	for _, inboxes := range out {
		slices.Sort(inboxes)
	}
	return out
}
