package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// selfURL is the URL a test peer was asked for, as a document id.
func selfURL(r *http.Request) string { return "http://" + r.Host + r.URL.RequestURI() }

// pathHits counts requests per path.
type pathHits struct {
	mu sync.Mutex
	n  map[string]int
}

func (h *pathHits) add(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == nil {
		h.n = make(map[string]int)
	}
	h.n[path]++
}

func (h *pathHits) get(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[path]
}

func TestFetchForbidden(t *testing.T) {
	p := newPeer(t, func(w http.ResponseWriter, r *http.Request) { serveDoc(w, selfURL(r)) })
	port := p.URL[strings.LastIndexByte(p.URL, ':')+1:]
	f := testFetcher(t, nil, FetcherOptions{})
	urls := []string{
		"http://127.0.0.1:" + port + "/",
		"https://127.0.0.1:" + port + "/",
		"https://[::1]:" + port + "/",
		"https://0.0.0.0:" + port + "/",
		"https://[::ffff:127.0.0.1]:" + port + "/",
		"https://localhost:" + port + "/",
		"https://2130706433:" + port + "/",
		"https://127.1:" + port + "/",
		"https://10.0.0.1/",
		"https://172.16.0.1/",
		"https://192.168.1.1/",
		"https://169.254.169.254/latest/meta-data/",
		"https://100.64.0.1/",
		"https://[fc00::1]/",
		"https://[fe80::1]/",
		"http://2130706433/",
	}
	for _, raw := range urls {
		t.Run("FET-01 "+raw, func(t *testing.T) {
			body, id, err := f.Fetch(context.Background(), raw)
			fe := fetchError(t, err, KindForbidden)
			if body != nil || id != nil {
				t.Errorf("Fetch(%s) = %q, %v, want nothing", raw, body, id)
			}
			if !errors.Is(err, ErrForbiddenAddress) && !errors.Is(err, ErrForbiddenURL) {
				t.Errorf("Fetch(%s) = %v, want %v or %v", raw, err, ErrForbiddenAddress, ErrForbiddenURL)
			}
			if fe.URL != raw {
				t.Errorf("Error.URL = %q, want %q", fe.URL, raw)
			}
		})
	}
	p.assertNoConnection(t)
	if got := p.hits.Load(); got != 1 {
		t.Errorf("peer handled %d requests besides the probe, want 0", got-1)
	}
}

func TestFetchSchemes(t *testing.T) {
	p := newPeer(t, func(w http.ResponseWriter, r *http.Request) { serveDoc(w, selfURL(r)) })
	host := strings.TrimPrefix(p.URL, "http://")
	f := testFetcher(t, nil, FetcherOptions{AllowPrivate: true})
	urls := []string{
		"file:///etc/passwd",
		"gopher://" + host + "/_GET%20/%20HTTP/1.0",
		`data:application/activity+json,{"id":"https://a.example/"}`,
		"ftp://" + host + "/x",
		"javascript:alert(1)",
	}
	for _, raw := range urls {
		t.Run("FET-04 "+raw, func(t *testing.T) {
			_, _, err := f.Fetch(context.Background(), raw)
			fetchError(t, err, KindForbidden)
			if !errors.Is(err, ErrForbiddenURL) {
				t.Errorf("Fetch(%s) = %v, want %v", raw, err, ErrForbiddenURL)
			}
		})
	}
	p.assertNoConnection(t)
}

func TestFetchRedirects(t *testing.T) {
	var hits pathHits
	p := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		switch {
		case r.URL.Path == "/ftp":
			http.Redirect(w, r, "ftp://"+r.Host+"/x", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/hop/"):
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
			if n > 0 {
				http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
				return
			}
			serveDoc(w, selfURL(r))
		default:
			http.NotFound(w, r)
		}
	})
	f := testFetcher(t, nil, FetcherOptions{AllowPrivate: true})

	t.Run("three redirects", func(t *testing.T) {
		_, id, err := f.Fetch(context.Background(), p.URL+"/hop/3")
		if err != nil {
			t.Fatalf("Fetch(/hop/3) = %v, want a document", err)
		}
		if want := p.URL + "/hop/0"; id.String() != want {
			t.Errorf("Fetch(/hop/3) id = %s, want %s", id, want)
		}
	})
	t.Run("FET-03 fourth redirect", func(t *testing.T) {
		before := hits.get("/hop/0")
		_, _, err := f.Fetch(context.Background(), p.URL+"/hop/4")
		fetchError(t, err, KindInvalid)
		if !errors.Is(err, errTooManyRedirects) {
			t.Errorf("Fetch(/hop/4) = %v, want %v", err, errTooManyRedirects)
		}
		if got := hits.get("/hop/0") - before; got != 0 {
			t.Errorf("fourth redirect target requested %d times, want 0", got)
		}
	})
	t.Run("FET-03 redirect to ftp", func(t *testing.T) {
		_, _, err := f.Fetch(context.Background(), p.URL+"/ftp")
		fetchError(t, err, KindForbidden)
		if !errors.Is(err, ErrForbiddenURL) {
			t.Errorf("Fetch(/ftp) = %v, want %v", err, ErrForbiddenURL)
		}
	})
}

func TestFetchIdentity(t *testing.T) {
	var hits pathHits
	var a, b *peer
	a = newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.add("a" + r.URL.Path)
		switch r.URL.Path {
		case "/notes/1", "/users/x", "/caps", "/dot":
			id := selfURL(r)
			switch r.URL.Path {
			case "/caps":
				id = strings.Replace(id, "localhost", "LOCALHOST", 1)
			case "/dot":
				id = strings.Replace(id, "localhost", "localhost.", 1)
			}
			serveDoc(w, id)
		case "/ori04/1":
			serveDoc(w, a.URL+"/ori04/2")
		case "/ori04/2":
			serveDoc(w, a.URL+"/ori04/2")
		case "/loop/1":
			serveDoc(w, a.URL+"/loop/2")
		case "/loop/2":
			serveDoc(w, a.URL+"/loop/3")
		case "/loop/3":
			serveDoc(w, a.URL+"/loop/3")
		case "/ori05/1":
			serveDoc(w, b.URL+"/ori05/1")
		case "/moved":
			http.Redirect(w, r, b.URL+"/landing", http.StatusFound)
		case "/moved-claims-a":
			http.Redirect(w, r, b.URL+"/claims-a", http.StatusFound)
		case "/renamed":
			http.Redirect(w, r, "/notes/1", http.StatusMovedPermanently)
		case "/user-info":
			serveDoc(w, strings.Replace(selfURL(r), "http://", "http://user@", 1))
		default:
			http.NotFound(w, r)
		}
	})
	b = newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.add("b" + r.URL.Path)
		switch r.URL.Path {
		case "/landing", "/ori05/1":
			serveDoc(w, selfURL(r))
		case "/claims-a":
			serveDoc(w, a.URL+"/moved-claims-a")
		default:
			http.NotFound(w, r)
		}
	})
	localhost := strings.Replace(a.URL, "127.0.0.1", "localhost", 1)
	f := testFetcher(t, nil, FetcherOptions{AllowPrivate: true})

	tests := []struct {
		name     string
		url      string
		wantID   string // when the document is accepted
		wantErr  string // otherwise
		notAsked []string
	}{
		{name: "id equal to the URL", url: a.URL + "/notes/1", wantID: a.URL + "/notes/1"},
		{name: "key id with a fragment", url: a.URL + "/users/x#main-key", wantID: a.URL + "/users/x"},
		{name: "id with the host in capitals", url: localhost + "/caps", wantID: strings.Replace(localhost, "localhost", "LOCALHOST", 1) + "/caps"},
		{name: "redirect on the same origin", url: a.URL + "/renamed", wantID: a.URL + "/notes/1"},
		{name: "ORI-04 id of another document on the same origin", url: a.URL + "/ori04/1", wantID: a.URL + "/ori04/2"},
		{
			name:     "ORI-04 refetched document names a third id",
			url:      a.URL + "/loop/1",
			wantErr:  "fetch " + a.URL + "/loop/2: id " + a.URL + "/loop/3 is not the URL fetched",
			notAsked: []string{"a/loop/3"},
		},
		{
			name:     "ORI-05 id on another origin",
			url:      a.URL + "/ori05/1",
			wantErr:  "fetch " + a.URL + "/ori05/1: id " + b.URL + "/ori05/1 is on another origin",
			notAsked: []string{"b/ori05/1"},
		},
		{
			name:    "ORI-05 redirect to another origin whose id is that origin",
			url:     a.URL + "/moved",
			wantErr: "fetch " + a.URL + "/moved: id " + b.URL + "/landing is on another origin",
		},
		{
			name:    "ORI-05 redirect to another origin whose id claims the first",
			url:     a.URL + "/moved-claims-a",
			wantErr: "fetch " + a.URL + "/moved-claims-a: id " + a.URL + "/moved-claims-a is not the URL fetched",
		},
		{
			name:    "ORI-07 id host with a trailing dot",
			url:     localhost + "/dot",
			wantErr: "fetch " + localhost + "/dot: id " + strings.Replace(localhost, "localhost", "localhost.", 1) + "/dot is on another origin",
		},
		{
			name:    "id with user info",
			url:     a.URL + "/user-info",
			wantErr: "fetch " + a.URL + "/user-info: id \"" + strings.Replace(a.URL, "http://", "http://user@", 1) + "/user-info\" is not an http(s) URL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, id, err := f.Fetch(context.Background(), tt.url)
			if tt.wantErr != "" {
				fetchError(t, err, KindInvalid)
				if err.Error() != tt.wantErr {
					t.Errorf("Fetch(%s) = %q, want %q", tt.url, err, tt.wantErr)
				}
				if body != nil || id != nil {
					t.Errorf("Fetch(%s) returned a document with its error", tt.url)
				}
			} else {
				if err != nil {
					t.Fatalf("Fetch(%s) = %v, want id %s", tt.url, err, tt.wantID)
				}
				if id.String() != tt.wantID {
					t.Errorf("Fetch(%s) id = %s, want %s", tt.url, id, tt.wantID)
				}
				if !bytes.Contains(body, []byte(tt.wantID)) {
					t.Errorf("Fetch(%s) body = %s, want the document of %s", tt.url, body, tt.wantID)
				}
			}
			for _, path := range tt.notAsked {
				if n := hits.get(path); n != 0 {
					t.Errorf("%s requested %d times, want 0", path, n)
				}
			}
		})
	}
	t.Run("ORI-04 refetches only once", func(t *testing.T) {
		if got := hits.get("a/ori04/2"); got != 1 {
			t.Errorf("/ori04/2 requested %d times, want 1", got)
		}
		if got := hits.get("a/loop/2"); got != 1 {
			t.Errorf("/loop/2 requested %d times, want 1", got)
		}
	})
}

func TestFetchContentType(t *testing.T) {
	p := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		ct := r.URL.Query().Get("ct")
		if ct == "none" {
			w.Header()["Content-Type"] = nil // no sniffing either
		} else {
			w.Header().Set("Content-Type", ct)
		}
		fmt.Fprintf(w, `{"id":%q,"type":"Person"}`, selfURL(r))
	})
	f := testFetcher(t, nil, FetcherOptions{AllowPrivate: true})
	tests := []struct {
		name        string
		contentType string
		wantErr     string // "" when accepted
	}{
		{"activity+json", "application/activity+json", ""},
		{"activity+json with a charset", "application/activity+json; charset=utf-8", ""},
		{"ld+json with the ActivityStreams profile", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, ""},
		{"ld+json without a profile", "application/ld+json", ""},
		{"media type in capitals", "Application/Activity+JSON", ""},
		{"ORI-06 HTML", "text/html; charset=utf-8", "content type text/html is not ActivityStreams"},
		{"ORI-06 PNG", "image/png", "content type image/png is not ActivityStreams"},
		{"ORI-06 plain text", "text/plain", "content type text/plain is not ActivityStreams"},
		{"ORI-06 plain JSON (CVE-2024-25636)", "application/json", "content type application/json is not ActivityStreams"},
		{"ORI-06 missing content type", "none", "no content type"},
		{"ORI-06 malformed content type", "application/activity+json; =", "bad content type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := p.URL + "/actor?ct=" + url.QueryEscape(tt.contentType)
			_, _, err := f.Fetch(context.Background(), raw)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("Fetch with Content-Type %q = %v, want a document", tt.contentType, err)
				}
				return
			}
			fetchError(t, err, KindInvalid)
			if want := "fetch " + raw + ": " + tt.wantErr; err.Error() != want {
				t.Errorf("Fetch with Content-Type %q = %q, want %q", tt.contentType, err, want)
			}
		})
	}
}

func TestFetchStatus(t *testing.T) {
	p := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/"))
		w.Header().Set("Content-Type", "application/activity+json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"id":%q}`, selfURL(r))
	})
	f := testFetcher(t, nil, FetcherOptions{AllowPrivate: true})
	tests := []struct {
		code int
		want Kind
	}{
		{http.StatusNotFound, KindNotFound},
		{http.StatusGone, KindNotFound},
		{http.StatusServiceUnavailable, KindUnreachable},
		{http.StatusInternalServerError, KindUnreachable},
		{http.StatusBadGateway, KindUnreachable},
		{http.StatusTooManyRequests, KindUnreachable},
		{http.StatusRequestTimeout, KindUnreachable},
		{http.StatusUnauthorized, KindInvalid},
		{http.StatusForbidden, KindInvalid},
		{http.StatusAccepted, KindInvalid},
		{http.StatusNoContent, KindInvalid},
		{http.StatusFound, KindInvalid}, // a redirect without Location
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("status %d", tt.code), func(t *testing.T) {
			raw := fmt.Sprintf("%s/status/%d", p.URL, tt.code)
			_, _, err := f.Fetch(context.Background(), raw)
			fetchError(t, err, tt.want)
			if want := fmt.Sprintf("fetch %s: status %d %s", raw, tt.code, http.StatusText(tt.code)); err.Error() != want {
				t.Errorf("Fetch(%s) = %q, want %q", raw, err, want)
			}
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		_, _, err = f.Fetch(context.Background(), "http://"+addr+"/actor")
		fetchError(t, err, KindUnreachable)
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _, err := f.Fetch(ctx, p.URL+"/status/200")
		fetchError(t, err, KindUnreachable)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Fetch with a cancelled context = %v, want %v", err, context.Canceled)
		}
	})
	t.Run("unparsable URL", func(t *testing.T) {
		_, _, err := f.Fetch(context.Background(), "http://a.example/%zz")
		fetchError(t, err, KindInvalid)
	})
}

func TestFetchHeaders(t *testing.T) {
	type seen struct{ accept, userAgent, signature, date string }
	var mu sync.Mutex
	got := map[string]seen{}
	p := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.URL.Path] = seen{r.Header.Get("Accept"), r.Header.Get("User-Agent"), r.Header.Get("Signature"), r.Header.Get("Date")}
		mu.Unlock()
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "/end", http.StatusFound)
			return
		}
		serveDoc(w, selfURL(r))
	})
	var calls int
	sign := func(r *http.Request) error {
		calls++
		if r.Header.Get("Signature") != "" {
			return errors.New("request already signed")
		}
		r.Header.Set("Signature", "test "+r.URL.Path)
		return nil
	}
	f := testFetcher(t, sign, FetcherOptions{AllowPrivate: true})
	if _, _, err := f.Fetch(context.Background(), p.URL+"/start"); err != nil {
		t.Fatalf("Fetch(/start) = %v, want a document", err)
	}
	if calls != 2 {
		t.Errorf("signer called %d times, want 2 (one per request)", calls)
	}
	mu.Lock()
	seenByPath := maps.Clone(got)
	mu.Unlock()
	for _, path := range []string{"/start", "/end"} {
		s := seenByPath[path]
		if s.accept != acceptHeader {
			t.Errorf("%s: Accept = %q, want %q", path, s.accept, acceptHeader)
		}
		if want := "Coppice/test (+https://coppice.test/)"; s.userAgent != want {
			t.Errorf("%s: User-Agent = %q, want %q", path, s.userAgent, want)
		}
		if want := "test " + path; s.signature != want {
			t.Errorf("%s: Signature = %q, want %q", path, s.signature, want)
		}
	}

	t.Run("signer failure", func(t *testing.T) {
		errKey := errors.New("no key")
		f := testFetcher(t, func(*http.Request) error { return errKey }, FetcherOptions{AllowPrivate: true})
		before := p.hits.Load()
		_, _, err := f.Fetch(context.Background(), p.URL+"/end")
		if !errors.Is(err, errKey) {
			t.Errorf("Fetch with a failing signer = %v, want %v", err, errKey)
		}
		var fe *Error
		if errors.As(err, &fe) {
			t.Errorf("Fetch with a failing signer = %v (*Error of kind %v), want a plain error", err, fe.Kind)
		}
		if n := p.hits.Load() - before; n != 0 {
			t.Errorf("peer got %d requests, want 0", n)
		}
	})
}

func TestFetchBadJSON(t *testing.T) {
	bodies := map[string]string{
		"not JSON":                 `hello`,
		"an array":                 `[{"id":"SELF"}]`,
		"trailing garbage":         `{"id":"SELF"} x`,
		"two objects":              `{"id":"SELF"}{"id":"SELF"}`,
		"PAR-01 duplicate id":      `{"id":"SELF","type":"Note","id":"SELF"}`,
		"PAR-01 escaped duplicate": `{"id":"SELF","i\u0064":"SELF"}`,
		"no id":                    `{"type":"Note"}`,
		"id in capitals only":      `{"ID":"SELF"}`,
		"null id":                  `{"id":null}`,
		"numeric id":               `{"id":5}`,
		"PAR-02 id as an object":   `{"id":{"id":"SELF"}}`,
		"PAR-02 id as an array":    `{"id":["SELF"]}`,
		"relative id":              `{"id":"/notes/1"}`,
		"ftp id":                   `{"id":"ftp://a.example/x"}`,
		"truncated object":         `{"id":"SELF",`,
		"PAR-06 deep nesting":      `{"id":"SELF","a":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`,
		"PAR-07 invalid UTF-8":     "{\"id\":\"SELF\",\"name\":\"\xff\xfe\"}",
	}
	p := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/activity+json")
		name, _ := url.PathUnescape(strings.TrimPrefix(r.URL.Path, "/"))
		w.Write([]byte(strings.ReplaceAll(bodies[name], "SELF", selfURL(r))))
	})
	f := testFetcher(t, nil, FetcherOptions{AllowPrivate: true})
	for name := range bodies {
		t.Run(name, func(t *testing.T) {
			_, _, err := f.Fetch(context.Background(), p.URL+"/"+url.PathEscape(name))
			fetchError(t, err, KindInvalid)
		})
	}
}
