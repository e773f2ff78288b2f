package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/media"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Site serves the public pages and the /admin console.
type Site struct {
	community *community.Service
	base      *url.URL
	log       *slog.Logger
	media     *media.Store // uploaded files; nil serves none
	pages     map[string]*template.Template
	console   *console          // the /admin console's sessions, login limit and options
	signin    *community.SignIn // members signing in to the site; nil turns it off
}

// New parses the embedded templates; a template that does not parse is a
// programmer error and panics at start-up.
func New(svc *community.Service, base *url.URL, log *slog.Logger, files *media.Store) *Site {
	s := &Site{community: svc, base: base, log: log, media: files, pages: map[string]*template.Template{}}
	for _, page := range []string{"home", "community", "thread", "resource", "meeting", "search", "member", "modlog", "error",
		"wiki", "wiki_page", "wiki_history", "wiki_diff", "decision", "signin", "wiki_edit", "propose"} {
		s.pages[page] = template.Must(template.New("layout.html").Funcs(pageFuncs()).ParseFS(templateFiles, "templates/layout.html", "templates/"+page+".html"))
	}
	for _, page := range adminPageNames() {
		s.pages[page] = template.Must(template.New("admin_layout.html").Funcs(consoleFuncs()).
			ParseFS(templateFiles, "templates/admin_layout.html", "templates/"+page+".html"))
	}
	s.console = newConsole(base, ConsoleOptions{})
	return s
}

// pageFuncs are the functions public templates may call.
func pageFuncs() template.FuncMap {
	return template.FuncMap{"dec": func(n int) int { return n - 1 }, "hasPrefix": strings.HasPrefix}
}

// Static serves the embedded assets under /static/.
func (s *Site) Static() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	return http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// errNotFound is a malformed path that names nothing.
var errNotFound = community.ErrNotFound

// mediaNotFound is a media path that names no stored file.
var mediaNotFound = media.ErrNotFound

// serve adapts fn: the request carries its signed-in member, if any (see
// memberFrom); an error becomes an HTML error page and one log line.
func (s *Site) serve(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := s.withMember(r)
		if err == nil {
			err = fn(w, r)
		}
		if err == nil {
			return
		}
		status, msg := http.StatusInternalServerError, "Something went wrong on our side."
		var se *statusError
		switch {
		case errors.As(err, &se):
			status, msg = se.status, se.msg
		case errors.Is(err, community.ErrNotFound):
			status, msg = http.StatusNotFound, "There is nothing here."
		case errors.Is(err, community.ErrForbidden):
			status, msg = http.StatusForbidden, "You may not do that."
		}
		if status >= 500 {
			s.log.ErrorContext(r.Context(), "web request", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		}
		if rerr := s.render(w, r, status, "error", map[string]any{"Title": http.StatusText(status), "Message": msg}); rerr != nil {
			s.log.ErrorContext(r.Context(), "render error page", "err", rerr)
		}
	})
}

// render executes a public page into a buffer first, so a template error
// never sends half a page. The data of public pages is a map; render adds
// "Viewer", who is reading (see viewerOf), for the layout.
func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, page string, data map[string]any) error {
	if v := s.viewerOf(r); v != nil {
		data["Viewer"] = v
	}
	var buf bytes.Buffer
	if err := s.pages[page].Execute(&buf, data); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Vary", "Accept")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action 'self' https: http:")
	h.Set("Referrer-Policy", "same-origin")
	if _, ok := memberSessionFrom(r); ok {
		// The page names the member and holds their CSRF token.
		h.Set("Cache-Control", "private, no-store")
	}
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}
