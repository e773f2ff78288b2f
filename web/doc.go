// Package web serves the HTML side of Coppice: the public pages visitors
// read and, later, the /admin console. Templates and assets are embedded in
// the binary. It does not import go-fed or write SQL; it reads and changes
// state only through internal/community.
//
// Members of communities sign in to the public site with their fediverse
// account (signin.go); a handler learns who is signed in with memberFrom,
// and a handler for signed-in members only is wrapped with asMember
// (member.go), which also checks the form's CSRF token.
package web
