package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// stepTimeout bounds one step of a browser test; a page that never shows
// what a step waits for fails the test instead of hanging it.
const stepTimeout = 20 * time.Second

// browser is a headless Chromium with one tab, for one test.
type browser struct {
	t   *testing.T
	ctx context.Context // the tab; it lives until the test ends
}

// newBrowser starts Chromium. Without it the test fails, never skips: the
// browser tests are part of what CI checks.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("browser tests need Debian's chromium at %s (%v); install it with scripts/need-chromium, "+
			"or: sudo apt-get install -y chromium", chromiumPath, err)
	}
	profile, err := os.MkdirTemp("", "coppice-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Chromium's helper processes may still be writing for a moment
		// after the browser stops; a profile left in the temp folder is
		// harmless, so the error is not a test failure.
		_ = os.RemoveAll(profile)
	})
	// The machine has no internet: every flag that stops a network call of
	// the browser's own keeps it from hanging on one.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 1024),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	start, stop := context.WithTimeout(ctx, stepTimeout)
	defer stop()
	// The first action starts the browser, under the tab's own context:
	// a timeout on it would stop the browser.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	if err := chromedp.Do(start, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("open a tab in %s: %v", chromiumPath, err)
	}
	b := &browser{t: t, ctx: ctx}
	// Registered last, so it runs first, while the browser still lives.
	t.Cleanup(b.saveOnFailure)
	return b
}

// step runs actions as one named step, failing the test when one fails.
func (b *browser) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("step %q: %v (page %s)", name, err, b.location())
	}
}

// text returns the visible text of the first element matching a CSS
// selector.
func (b *browser) text(css string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("text of %s: %v (page %s)", css, err, b.location())
	}
	return s
}

// location is the URL of the page the tab shows.
func (b *browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return loc
}

// saveOnFailure saves a screenshot and the HTML of the page under testout/
// at the repository root when the test failed.
func (b *browser) saveOnFailure() {
	if !b.t.Failed() {
		return
	}
	root, err := repoRoot()
	if err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	dir := filepath.Join(root, "testout")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(b.t.Name())
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		b.t.Logf("no screenshot: %v", err)
	} else if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Logf("no screenshot: %v", err)
	} else {
		b.t.Logf("screenshot of %s saved as %s", b.location(), filepath.Join(dir, name+".png"))
	}
	if html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); err == nil {
		_ = os.WriteFile(filepath.Join(dir, name+".html"), []byte(html), 0o644)
	}
}

// repoRoot is the folder of go.mod above the test's working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
