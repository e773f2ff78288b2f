package fetch

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFET13PolicyRefusesHosts: with a host policy, no request reaches a
// refused host: not a fetch, not a redirect from an allowed host, not a
// POST; the policy sees the host in its normalized spelling.
func TestFET13PolicyRefusesHosts(t *testing.T) {
	blocked := newPeer(t, func(w http.ResponseWriter, r *http.Request) { serveDoc(w, "http://"+r.Host+r.URL.Path) })
	allowed := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, blocked.URL+"/note", http.StatusFound)
			return
		}
		serveDoc(w, "http://"+r.Host+r.URL.Path)
	})
	blockedHost := strings.TrimPrefix(blocked.URL, "http://")
	var asked []string
	c := NewClient(Options{AllowPrivate: true, Timeout: 5 * time.Second, Policy: func(_ context.Context, host string) (bool, error) {
		asked = append(asked, host)
		return host != blockedHost, nil
	}})
	t.Cleanup(c.CloseIdleConnections)
	f := NewFetcher(c, nil, FetcherOptions{AllowPrivate: true})
	ctx := context.Background()

	_, _, err := f.Fetch(ctx, blocked.URL+"/note")
	if fe := fetchError(t, err, KindForbidden); !errors.Is(fe, ErrRefusedHost) {
		t.Errorf("Fetch of a refused host = %v, want ErrRefusedHost", err)
	}
	_, _, err = f.Fetch(ctx, allowed.URL+"/moved")
	if fe := fetchError(t, err, KindForbidden); !errors.Is(fe, ErrRefusedHost) {
		t.Errorf("Fetch redirected to a refused host = %v, want ErrRefusedHost", err)
	}
	resp, err := c.Post(blocked.URL+"/inbox", "application/activity+json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, ErrRefusedHost) {
		t.Errorf("POST to a refused host = %v, want ErrRefusedHost", err)
	}
	if _, _, err := f.Fetch(ctx, allowed.URL+"/note"); err != nil {
		t.Errorf("Fetch of an allowed host = %v", err)
	}
	blocked.assertNoConnection(t)
	if len(asked) == 0 || asked[0] != blockedHost {
		t.Errorf("policy asked about %v, want %s first", asked, blockedHost)
	}

	t.Run("an error of the policy refuses too", func(t *testing.T) {
		c := NewClient(Options{AllowPrivate: true, Timeout: 5 * time.Second, Policy: func(context.Context, string) (bool, error) {
			return false, errors.New("database is closed")
		}})
		resp, err := c.Get(allowed.URL + "/note")
		if err == nil {
			resp.Body.Close()
			t.Errorf("GET with a failing policy succeeded")
		}
	})
}
