package federation

import (
	"net/url"
	"strings"
)

// IRIs builds every IRI this instance publishes from its base URL. It is the
// one place that knows our URL layout.
type IRIs struct {
	base *url.URL
}

// NewIRIs returns the IRI builder for base (scheme://host[:port], no path).
func NewIRIs(base *url.URL) IRIs {
	b := *base
	b.Path, b.RawPath, b.RawQuery, b.Fragment = "", "", "", ""
	return IRIs{base: &b}
}

// Host is the host of the base URL, port included: the HOST of acct:NAME@HOST.
func (i IRIs) Host() string { return i.base.Host }

// Base returns a copy of the base URL.
func (i IRIs) Base() *url.URL { b := *i.base; return &b }

func (i IRIs) at(path string) *url.URL {
	u := *i.base
	u.Path = path
	return &u
}

// Community is the Group actor of the community called name.
func (i IRIs) Community(name string) *url.URL { return i.at("/c/" + name) }

// CommunityKey is the id of the community's public key.
func (i IRIs) CommunityKey(name string) *url.URL {
	u := i.Community(name)
	u.Fragment = "main-key"
	return u
}

// CommunityCollection is one of the community's collections or endpoints
// (inbox, outbox, followers, featured, moderators, members, discussions,
// resources, events).
func (i IRIs) CommunityCollection(name, which string) *url.URL {
	return i.at("/c/" + name + "/" + which)
}

// SharedInbox is the instance's shared inbox.
func (i IRIs) SharedInbox() *url.URL { return i.at("/inbox") }

// InstanceActor is the instance's Application actor.
func (i IRIs) InstanceActor() *url.URL { return i.at("/actor") }

// InstanceActorName is the preferredUsername of the instance actor, so
// that it answers WebFinger as acct:coppice.internal@HOST: GoToSocial and
// Mastodon WebFinger every actor that signs a request to them and refuse
// it when that fails (PEERS.md). The dot keeps it apart from community
// names, which are [a-z0-9_]; a colon (the host's port) would fail
// Mastodon's username check, so it is not the host as some servers use.
const InstanceActorName = "coppice.internal"

// InstanceKey is the id of the instance actor's public key.
func (i IRIs) InstanceKey() *url.URL {
	u := i.InstanceActor()
	u.Fragment = "main-key"
	return u
}

// Page returns collection with ?page=n.
func Page(collection *url.URL, n int) *url.URL {
	u := *collection
	u.RawQuery = url.Values{"page": {itoa(n)}}.Encode()
	return &u
}

// CommunityName returns the name of the community whose actor IRI is u, if u
// is one of ours.
func (i IRIs) CommunityName(u *url.URL) (string, bool) {
	if !sameOrigin(u, i.base) || u.RawQuery != "" {
		return "", false
	}
	name, ok := strings.CutPrefix(u.Path, "/c/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// sameOrigin compares scheme, host and port as net/url parsed them, never
// by string surgery (CVE-2023-42451).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(hostPort(a), hostPort(b))
}

// hostPort returns the host of u with its port made explicit.
func hostPort(u *url.URL) string {
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	p := u.Port()
	if p == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			p = "443"
		case "http":
			p = "80"
		}
	}
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	return h + ":" + p
}
