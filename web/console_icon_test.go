package web_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"testing"
)

// TestCommunityIcon: a moderator uploads a PNG as the community's icon;
// a file that is not an image, or no file, is refused with the form shown
// again; without a CSRF token nothing happens.
func TestCommunityIcon(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}

	rec := tc.postMultipart("/admin/communities/bees/icon", se, url.Values{}, "icon", "logo.png", []byte("<svg onload=alert(1)>"))
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	rec = tc.postMultipart("/admin/communities/bees/icon", se, url.Values{}, "icon", "notes.txt", []byte("just text\n"))
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "must be a PNG, JPEG, GIF or WebP image")
	if c, _ := tc.svc.Community(ctx, "bees"); c.IconHash != "" {
		t.Fatalf("a refused upload set the icon %q", c.IconHash)
	}
	wantStatus(t, tc.post("/admin/communities/bees/icon", se, url.Values{}), http.StatusUnprocessableEntity)

	rec = tc.postMultipart("/admin/communities/bees/icon", se, url.Values{}, "icon", "logo.png", buf.Bytes())
	wantRedirect(t, rec, "/admin/communities/bees?done=saved")
	c, _ := tc.svc.Community(ctx, "bees")
	if c.IconHash == "" || c.IconExt != ".png" {
		t.Errorf("icon = %q%q, want a .png", c.IconHash, c.IconExt)
	}
}
