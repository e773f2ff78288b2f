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
	// b is valid, compact JSON: members are "key":value, comma-separated.
	for i := 1; b[i] != '}'; {
		start := i
		keyEnd := endOfString(b, i)
		end := endOfValue(b, keyEnd+1)
		if isContextKey(b[start:keyEnd]) {
			if b[end] == ',' {
				end++ // drop the member and the comma after it
			} else if start > 1 {
				start-- // the last member: drop the comma before it
			}
			return append(b[:start], b[end:]...), nil
		}
		i = end
		if b[i] == ',' {
			i++
		}
	}
	return b, nil
}

// isContextKey reports whether a JSON string is "@context", escaped or
// not.
func isContextKey(key []byte) bool {
	if bytes.IndexByte(key, '\\') < 0 {
		return string(key) == `"@context"`
	}
	var k string
	return json.Unmarshal(key, &k) == nil && k == "@context"
}

// endOfString returns the index after the string that starts at b[i].
func endOfString(b []byte, i int) int {
	for j := i + 1; ; j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
}

// endOfValue returns the index after the value that starts at b[i], in
// valid compact JSON.
func endOfValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return endOfString(b, i)
	case '{', '[':
		depth := 0
		for j := i; ; j++ {
			switch b[j] {
			case '"':
				j = endOfString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
	}
	j := i // a number, true, false or null
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
		j++
	}
	return j
}
