package storage

import "time"

// Actor is a remote actor as we last fetched it: what delivery and
// signature checks need, and the raw document for audit.
type Actor struct {
	IRI               string
	Type              string
	Host              string // host[:port] of IRI, lower case
	PreferredUsername string
	Name              string
	Inbox             string
	SharedInbox       string
	KeyID             string
	PublicKeyPEM      string
	Raw               []byte
	FetchedAt         time.Time
	ExpiresAt         time.Time
}
