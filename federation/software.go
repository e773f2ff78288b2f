package federation

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/hostname"
	"github.com/coppice-dev/coppice/storage"
)

// softwareTTL is how long what a host runs is trusted before it is asked
// again; a host whose NodeInfo could not be read is asked again after a
// day too.
const softwareTTL = 7 * 24 * time.Hour

// microblogSoftware shows a Group's Announce of an object as a boost and
// ignores an Announce of an activity (PEERS.md: Mastodon, GoToSocial).
var microblogSoftware = map[string]bool{
	"mastodon": true, "gotosocial": true, "akkoma": true, "pleroma": true, "misskey": true, "sharkey": true,
	"firefish": true, "iceshrimp": true, "calckey": true, "foundkey": true, "cherrypick": true, "hometown": true,
	"glitchsoc": true, "snac": true, "takahe": true, "pixelfed": true,
}

// groupSoftware reads Announce{activity} (FEP-1b12 group servers).
var groupSoftware = map[string]bool{
	"lemmy": true, "piefed": true, "mbin": true, "kbin": true, "nodebb": true, "coppice": true, "lotide": true,
}

// familyOf classifies a NodeInfo software name.
func familyOf(name string) storage.Family {
	name = strings.ToLower(strings.TrimSpace(name))
	switch {
	case microblogSoftware[name]:
		return storage.FamilyMicroblog
	case groupSoftware[name]:
		return storage.FamilyGroup
	}
	return storage.FamilyUnknown
}

// LearnSoftware reads, at most once a week, the NodeInfo of the host of
// actorIRI (a new follower's), so each host then gets the one Announce
// shape its software shows. Failures are remembered as unknown: such a
// host gets both shapes, as before.
func (k *Keys) LearnSoftware(ctx context.Context, actorIRI string) {
	u, err := url.Parse(actorIRI)
	if err != nil || u.Host == "" {
		return
	}
	host, err := hostname.FromURL(u)
	if err != nil {
		return
	}
	if _, _, checked, err := k.store.HostSoftware(ctx, host); err == nil && k.now().Sub(checked) < softwareTTL {
		return
	} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	name := k.nodeInfoSoftware(ctx, u.Scheme+"://"+u.Host)
	if err := k.store.SetHostSoftware(ctx, host, name, familyOf(name), k.now()); err != nil {
		k.log.InfoContext(ctx, "remember host software", "host", host, "err", err)
	}
}

// nodeInfoSoftware returns the software name a server's NodeInfo gives,
// "" when it cannot be read.
func (k *Keys) nodeInfoSoftware(ctx context.Context, origin string) string {
	body, err := k.fetcher.GetJSON(ctx, origin+"/.well-known/nodeinfo")
	if err != nil {
		return ""
	}
	var disco struct {
		Links []struct{ Rel, Href string } `json:"links"`
	}
	if json.Unmarshal(body, &disco) != nil {
		return ""
	}
	var href string
	for _, l := range disco.Links {
		if strings.HasPrefix(l.Rel, "http://nodeinfo.diaspora.software/ns/schema/2.") {
			href = l.Href
		}
	}
	o, err1 := url.Parse(origin)
	hu, err2 := url.Parse(href)
	if href == "" || err1 != nil || err2 != nil || !sameOrigin(o, hu) {
		return "" // a NodeInfo elsewhere says nothing about this host
	}
	body, err = k.fetcher.GetJSON(ctx, href)
	if err != nil {
		return ""
	}
	var ni struct {
		Software struct{ Name string } `json:"software"`
	}
	if json.Unmarshal(body, &ni) != nil {
		return ""
	}
	return ni.Software.Name
}
