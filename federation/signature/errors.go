package signature

import (
	"fmt"
	"strconv"
)

// Error is a rejection of an incoming request's signature. Its Reason is
// short and safe to log and to return to the peer in a 401 body.
type Error struct {
	// Reason says why the request was rejected, for example
	// "digest not signed".
	Reason string
	// Missing is true when the request carried no signature at all.
	Missing bool
}

// Error returns the reason with a prefix naming what was checked.
func (e *Error) Error() string {
	return "verify http signature: " + e.Reason
}

// reject returns an *Error with a formatted reason.
func reject(format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// maxQuoted is the most bytes of a peer-supplied value echoed in a reason.
const maxQuoted = 64

// quote returns s quoted for a reason, cut to maxQuoted bytes so a hostile
// peer cannot make our logs or 401 bodies large.
func quote(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + "..."
	}
	return strconv.Quote(s)
}
