package server_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/coppice-dev/coppice/internal/server"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// TestNewInstanceNeedsStoreBaseURLAndMediaDir: the three options without
// a production default are refused when missing, before anything is made.
func TestNewInstanceNeedsStoreBaseURLAndMediaDir(t *testing.T) {
	t.Parallel()
	st := storagetest.Open(t)
	base, err := url.Parse("http://127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tests := []struct {
		name string
		opt  server.Options
	}{
		{"no store", server.Options{BaseURL: base, MediaDir: dir}},
		{"no base URL", server.Options{Store: st, MediaDir: dir}},
		{"no media directory", server.Options{Store: st, BaseURL: base}},
	}
	for _, tt := range tests {
		if _, err := server.NewInstance(context.Background(), tt.opt); err == nil {
			t.Errorf("NewInstance with %s = nil error, want one", tt.name)
		}
	}
	if _, err := server.NewInstance(context.Background(), server.Options{Store: st, BaseURL: base, MediaDir: dir}); err != nil {
		t.Errorf("NewInstance with the three = %v, want nil", err)
	}
}
