package federation

import (
	"encoding/json"
	"fmt"

	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// Namespaces of the extension terms we read and write.
const (
	nsAS      = "https://www.w3.org/ns/activitystreams"
	nsPublic  = "https://www.w3.org/ns/activitystreams#Public"
	nsSec     = "https://w3id.org/security/v1"
	nsToot    = "http://joinmastodon.org/ns#"
	nsLemmy   = "https://join-lemmy.org/ns#"
	nsMZ      = "https://joinmobilizon.org/ns#"
	nsSchema  = "http://schema.org#"
	nsCoppice = "https://github.com/coppice-dev/coppice/blob/main/federation/doc.go#"
	nsDC      = "http://purl.org/dc/terms/"
	mediaAS   = "application/activity+json"
	mediaLD   = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
	mediaJRD  = "application/jrd+json"
	mediaJSON = "application/json"
)

// Extension terms that streams v1.0.0 does not know. They are written into
// and read from a type's unknown-properties map (LIBRARIES.md §2.3).
const (
	termManuallyApproves = "manuallyApprovesFollowers"
	termEndpoints        = "endpoints"
	termSharedInbox      = "sharedInbox"
	termPostingRestrict  = "postingRestrictedToMods"
	termMembers          = "members"
	termDiscussions      = "discussions"
	termResources        = "resources"
	termEvents           = "events"
	termJoinMode         = "joinMode"
	termWiki             = "wiki"        // a Group's wiki collection (ours)
	termContributor      = "contributor" // Dublin Core: a member credited for a community's object
)

// apContext is the @context of every document we send. It replaces the one
// streams.Serialize writes, whose order is random and which names
// http://joinmastodon.org/ns as a context document (go-fed #152): here every
// extension term we use is defined inline.
func apContext() []any {
	return []any{
		nsAS,
		nsSec,
		map[string]any{
			"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
			"sensitive":                 "as:sensitive",
			"Hashtag":                   "as:Hashtag",
			"toot":                      nsToot,
			"discoverable":              "toot:discoverable",
			"featured":                  map[string]any{"@id": "toot:featured", "@type": "@id"},
			"lemmy":                     nsLemmy,
			"postingRestrictedToMods":   "lemmy:postingRestrictedToMods",
			"mz":                        nsMZ,
			"members":                   map[string]any{"@id": "mz:members", "@type": "@id"},
			"discussions":               map[string]any{"@id": "mz:discussions", "@type": "@id"},
			"resources":                 map[string]any{"@id": "mz:resources", "@type": "@id"},
			"events":                    map[string]any{"@id": "mz:events", "@type": "@id"},
			"joinMode":                  map[string]any{"@id": "mz:joinMode", "@type": "mz:joinModeType"},
			"sc":                        nsSchema,
			"timezone":                  map[string]any{"@id": "mz:timezone", "@type": "sc:Text"},
			"participantCount":          map[string]any{"@id": "mz:participantCount", "@type": "sc:Integer"},
			"isOnline":                  map[string]any{"@id": "mz:isOnline", "@type": "sc:Boolean"},
			"maximumAttendeeCapacity":   "sc:maximumAttendeeCapacity",
			"ical":                      "http://www.w3.org/2002/12/cal/ical#",
			"votersCount":               "toot:votersCount",
			"coppice":                   nsCoppice,
			"wiki":                      map[string]any{"@id": "coppice:wiki", "@type": "@id"},
			"contributor":               map[string]any{"@id": nsDC + "contributor", "@type": "@id"},
		},
	}
}

type unknowner interface {
	GetUnknownProperties() map[string]any
}

// setExt writes an extension term into t's unknown-properties map, which
// streams serializes as is. The map is the type's own, not a copy.
func setExt(t vocab.Type, key string, v any) {
	u, ok := t.(unknowner)
	if !ok {
		panic(fmt.Sprintf("%T has no unknown properties", t)) // programmer error
	}
	u.GetUnknownProperties()[key] = v
}

// ext reads an extension term from t, trying each spelling in keys (the raw
// compact key of the sender, e.g. "joinMode" or "mz:joinMode").
func ext(t vocab.Type, keys ...string) (any, bool) {
	u, ok := t.(unknowner)
	if !ok {
		return nil, false
	}
	m := u.GetUnknownProperties()
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v, true
		}
	}
	return nil, false
}

// serialize turns t into a JSON object with our @context.
func serialize(t vocab.Type) (map[string]any, error) {
	m, err := streams.Serialize(t)
	if err != nil {
		return nil, fmt.Errorf("serialize %s: %w", t.GetTypeName(), err)
	}
	m["@context"] = apContext()
	// streams writes a one-element list as a scalar; collection items are
	// read as lists by every peer, so they stay lists.
	for _, k := range []string{"orderedItems", "items"} {
		if v, ok := m[k]; ok {
			if _, isList := v.([]any); !isList {
				m[k] = []any{v}
			}
		}
	}
	return m, nil
}

// Marshal serializes t as ActivityStreams JSON with our @context.
func Marshal(t vocab.Type) ([]byte, error) {
	m, err := serialize(t)
	if err != nil {
		return nil, err
	}
	return json.Marshal(m)
}
