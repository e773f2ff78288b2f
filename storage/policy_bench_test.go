package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// BenchmarkHostAllowed measures the federation policy check that every
// outgoing request (each delivery, each fetch) makes, with no policy and
// with a blocklist of the size instances import (5,000 domains).
func BenchmarkHostAllowed(b *testing.B) {
	for _, n := range []int{0, 5000} {
		b.Run(fmt.Sprintf("policies=%d", n), func(b *testing.B) {
			ctx := context.Background()
			st := storagetest.Open(b)
			for i := range n {
				if err := st.SetDomainPolicy(ctx, fmt.Sprintf("blocked%d.example", i), storage.PolicyBlock, time.Unix(1, 0)); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				ok, err := st.HostAllowed(ctx, "inbox.mastodon.example:8443")
				if err != nil || !ok {
					b.Fatalf("HostAllowed = %v, %v", ok, err)
				}
			}
		})
	}
}
