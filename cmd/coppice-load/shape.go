package main

import (
	"encoding/json"
	"errors"
)

// activityShape is what a fake host reads of an activity: its type and
// whether its object is embedded (an object) or named (an IRI).
type activityShape struct {
	typ              string
	objectIsActivity bool
}

// decodeShape decodes body as JSON, as a peer does, and returns its shape.
func decodeShape(body []byte) (activityShape, error) {
	var doc struct {
		Type   string          `json:"type"`
		Object json.RawMessage `json:"object"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return activityShape{}, err
	}
	return activityShape{typ: doc.Type, objectIsActivity: len(doc.Object) > 0 && doc.Object[0] == '{'}, nil
}

var errShape = errors.New("not a JSON object with a string type")

// scanShape finds the shape of body in one pass over its bytes, without
// checking that it is valid JSON: the top-level "type" must be a string
// without escapes, and the object's first byte says its shape. A body it
// cannot read is an error.
func scanShape(body []byte) (activityShape, error) {
	var out activityShape
	depth, typed := 0, false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			end := i + 1
			for end < len(body) && body[end] != '"' {
				if body[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(body) {
				return activityShape{}, errShape
			}
			key := body[i+1 : end]
			i = end
			if depth != 1 {
				continue
			}
			j := skipBlank(body, i+1)
			if j >= len(body) || body[j] != ':' {
				continue // a value, not a key
			}
			v := skipBlank(body, j+1)
			if v >= len(body) {
				return activityShape{}, errShape
			}
			switch string(key) { // no copy: Go compares the bytes
			case "type":
				if body[v] != '"' {
					return activityShape{}, errShape
				}
				e := v + 1
				for e < len(body) && body[e] != '"' && body[e] != '\\' {
					e++
				}
				if e >= len(body) || body[e] != '"' {
					return activityShape{}, errShape
				}
				out.typ, typed = string(body[v+1:e]), true
			case "object":
				out.objectIsActivity = body[v] == '{'
			}
		}
	}
	if !typed || depth != 0 {
		return activityShape{}, errShape
	}
	return out, nil
}

func skipBlank(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
