package federation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// envelope is a community's Announce without its id, context and object:
// every other member encoded once (built with streams on first use), in
// the order json.Marshal writes a map's keys. An Announce is then its
// members appended, with the three of its own in their places: ~10x
// faster than encoding the map each time, which was, with decoding the
// embedded activity, ~7% of the inbox's CPU at BM-1 (issue 13).
type envelope []member

// member is one key and its JSON value; the dynamic members (id, context,
// object) have no value.
type member struct {
	key   string
	value []byte
}

var dynamicMembers = []string{"id", "context", "object"}

// newEnvelope encodes m's members, less the dynamic ones.
func newEnvelope(m map[string]any) (envelope, error) {
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range dynamicMembers {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	e := make(envelope, 0, len(keys))
	for _, k := range keys {
		if slices.Contains(dynamicMembers, k) {
			e = append(e, member{key: k})
			continue
		}
		v, err := json.Marshal(m[k])
		if err != nil {
			return nil, fmt.Errorf("announce %s: %w", k, err)
		}
		e = append(e, member{key: k, value: v})
	}
	return e, nil
}

// render writes the Announce with its id, context (a thread IRI, or
// threadPending) and object (JSON).
func (e envelope) render(id, context string, object []byte) []byte {
	idJSON, _ := json.Marshal(id) // strings always encode
	contextJSON, _ := json.Marshal(context)
	size := 2 + len(idJSON) + len(contextJSON) + len(object)
	for _, m := range e {
		size += len(m.key) + len(m.value) + 4
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, m := range e {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), m.key...), '"', ':')
		switch m.key {
		case "id":
			b = append(b, idJSON...)
		case "context":
			b = append(b, contextJSON...)
		case "object":
			b = append(b, object...)
		default:
			b = append(b, m.value...)
		}
	}
	return append(b, '}')
}

var errNotObject = errors.New("not a JSON object")

// withoutContext returns activity, a JSON object, compacted and without
// its top-level "@context" member (an Announce's own covers it). The
// other members are kept as they are, in their order.
func withoutContext(activity []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(activity))
	if err := json.Compact(&buf, activity); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if len(b) < 2 || b[0] != '{' {
		return nil, errNotObject
	}
	cut := -1 // b is compact: the members are "key":value, comma-separated
	end := 0
	eachMember(b, func(key []byte, s, e int) bool {
		if keyString(key) == "@context" {
			cut, end = s, e
			return false
		}
		return true
	})
	switch {
	case cut < 0:
		return b, nil
	case b[end] == ',':
		end++ // drop the member and the comma after it
	case cut > 1:
		cut-- // the last member: drop the comma before it
	}
	return append(b[:cut], b[end:]...), nil
}
