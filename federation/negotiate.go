package federation

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// WantsActivityPub reports whether r asks for ActivityStreams JSON rather
// than an HTML page: its Accept header lists application/activity+json or
// application/ld+json (with or without the ActivityStreams profile) with a
// quality at least that of text/html. It is the one content-negotiation rule
// of Coppice; internal/server uses it as a route matcher.
func WantsActivityPub(r *http.Request) bool {
	ap, html := acceptQualities(r.Header.Values("Accept"))
	return ap > 0 && ap >= html
}

// responseMediaType answers application/activity+json unless the request
// asked only for application/ld+json, which then gets the profile form.
func responseMediaType(r *http.Request) string {
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && mt == mediaAS {
				return mediaAS
			}
		}
	}
	for _, v := range r.Header.Values("Accept") {
		if strings.Contains(v, "application/ld+json") {
			return mediaLD
		}
	}
	return mediaAS
}

func acceptQualities(values []string) (ap, html float64) {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(s, 64); err == nil {
					q = f
				}
			}
			switch mt {
			case mediaAS, "application/ld+json":
				ap = max(ap, q)
			case "text/html", "application/xhtml+xml":
				html = max(html, q)
			}
		}
	}
	return ap, html
}
