package web

import "net/http"

// Admin serves the /admin console. Until it exists it answers 404.
func (s *Site) Admin() http.Handler {
	return http.NotFoundHandler()
}
