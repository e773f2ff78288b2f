package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/coppice-dev/coppice/storage"
)

// floorResult is the pipeline floor of one run.
type floorResult struct {
	rate float64 // posts per second
}

// pipelineFloor measures, on the same machine right after the load, what
// no inbox can avoid for each post of the run: parse the signature and
// check the digest and date, verify the RSA signature, decode the JSON,
// and commit one row to a fresh SQLite database of its own, one
// transaction per post. conns goroutines share the checks, as the
// server's handlers do; one goroutine commits, one row at a time, so no
// two rows share a commit whatever storage does with concurrent
// transactions. The ratio of the server's rate to this floor says how
// much the rest of the inbox costs.
func pipelineFloor(ctx context.Context, posts []signedPost, serverURL string, remote *remoteHost, conns int) (floorResult, error) {
	dir, err := os.MkdirTemp("", "coppice-floor")
	if err != nil {
		return floorResult{}, fmt.Errorf("floor: %w", err)
	}
	defer os.RemoveAll(dir)
	st, err := storage.Open(ctx, filepath.Join(dir, "floor.db"))
	if err != nil {
		return floorResult{}, err
	}
	defer st.Close()
	base, err := url.Parse(serverURL)
	if err != nil {
		return floorResult{}, fmt.Errorf("floor: %w", err)
	}
	opt := signature.Options{Now: time.Now, Host: base.Host, Scheme: base.Scheme}
	pub := &remote.key.PublicKey
	work := make(chan int)
	checked := make(chan storage.InboxActivity, conns)
	errs := make(chan error, conns+1)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				a, err := floorCheck(opt, pub, posts[i])
				if err != nil {
					select { // the first errors are enough
					case errs <- fmt.Errorf("floor, post %d: %w", i, err):
					default:
					}
					continue
				}
				checked <- a
			}
		}()
	}
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		for a := range checked {
			if err := st.InTx(ctx, func(tx *storage.Tx) error {
				_, err := tx.RecordInboxActivity(ctx, a)
				return err
			}); err != nil {
				errs <- fmt.Errorf("floor: %w", err)
				for range checked {
				}
				return
			}
		}
	}()
	for i := range posts {
		work <- i
	}
	close(work)
	wg.Wait()
	close(checked)
	<-committed
	wall := time.Since(t0)
	close(errs)
	if err := <-errs; err != nil {
		return floorResult{}, err
	}
	return floorResult{rate: float64(len(posts)) / wall.Seconds()}, nil
}

// floorCheck does the checks of the floor for one post and returns the row
// to commit.
func floorCheck(opt signature.Options, pub any, p signedPost) (storage.InboxActivity, error) {
	r, err := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(p.body))
	if err != nil {
		return storage.InboxActivity{}, err
	}
	r.Header = p.header.Clone()
	signed, err := signature.Parse(r, p.body, opt)
	if err != nil {
		return storage.InboxActivity{}, err
	}
	if err := signed.Verify(pub); err != nil {
		return storage.InboxActivity{}, err
	}
	var m map[string]any
	if err := json.Unmarshal(p.body, &m); err != nil {
		return storage.InboxActivity{}, err
	}
	id, _ := m["id"].(string)
	typ, _ := m["type"].(string)
	actor, _ := m["actor"].(string)
	return storage.InboxActivity{IRI: id, Type: typ, ActorIRI: actor, Raw: p.body, ReceivedAt: time.Now()}, nil
}
