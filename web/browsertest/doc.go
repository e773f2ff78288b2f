// Package browsertest drives the /admin console and the public site of a
// whole Coppice instance in Debian's headless Chromium, through chromedp.
// It holds tests only; they need /usr/bin/chromium (scripts/need-chromium
// installs it) and fail without it.
package browsertest
