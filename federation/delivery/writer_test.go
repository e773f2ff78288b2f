package delivery

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

func TestBatchCollapsesSuccessesInARow(t *testing.T) {
	t.Parallel()
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	ok := func(host string, s int) *storage.HostResult {
		return &storage.HostResult{Host: host, At: at(s), OK: true}
	}
	bad := func(host string, s int) *storage.HostResult {
		return &storage.HostResult{Host: host, At: at(s), Error: "HTTP 503"}
	}
	b := &batch{lastOK: make(map[string]int)}
	for i, h := range []*storage.HostResult{ok("a", 1), ok("b", 2), ok("a", 3), bad("a", 4), bad("a", 5), ok("a", 6), ok("a", 7), nil} {
		b.add(result{out: storage.Outcome{ID: int64(i + 1)}, host: h})
	}
	b.add(result{keep: true})
	var got []string
	for _, h := range b.hosts {
		got = append(got, fmt.Sprintf("%s %v %d", h.Host, h.OK, h.At.Unix()))
	}
	want := []string{"a true 3", "b true 2", "a false 4", "a false 5", "a true 7"}
	if !slices.Equal(got, want) {
		t.Errorf("host results = %q, want %q", got, want)
	}
	if len(b.outs) != 8 {
		t.Errorf("batch holds %d outcomes, want 8 (every attempt, none for a kept row)", len(b.outs))
	}
}

// A host that keeps answering has its success written once a
// hostSuccessEvery; a failure is always written, and the success after
// it too.
func TestBatchWritesSuccessesOfAHealthyHostSeldom(t *testing.T) {
	t.Parallel()
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	b := &batch{lastOK: make(map[string]int), healthy: map[string]time.Time{"a": at(0), "b": at(0)}}
	every := int(hostSuccessEvery / time.Second)
	for _, h := range []storage.HostResult{
		{Host: "a", At: at(1), OK: true},          // written at 0: skipped
		{Host: "a", At: at(every + 1), OK: true},  // a minute on: written
		{Host: "b", At: at(2), Error: "HTTP 503"}, // written
		{Host: "b", At: at(3), OK: true},          // after a failure: written
		{Host: "c", At: at(4), OK: true},          // never written: written
	} {
		b.add(result{out: storage.Outcome{ID: 1}, host: &h})
	}
	var got []string
	for _, h := range b.hosts {
		got = append(got, fmt.Sprintf("%s %v %d", h.Host, h.OK, h.At.Unix()))
	}
	want := []string{fmt.Sprintf("a true %d", every+1), "b false 2", "b true 3", "c true 4"}
	if !slices.Equal(got, want) {
		t.Errorf("host results = %q, want %q", got, want)
	}
}
