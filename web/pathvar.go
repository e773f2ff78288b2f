package web

import (
	"net/http"

	"github.com/gorilla/mux"
)

// pathVar returns the route variable called name.
func pathVar(r *http.Request, name string) string {
	return mux.Vars(r)[name]
}
