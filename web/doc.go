// Package web serves the HTML side of Coppice: the public pages visitors
// read and, later, the /admin console. Templates and assets are embedded in
// the binary. It does not import go-fed or write SQL; it reads and changes
// state only through internal/community.
package web
