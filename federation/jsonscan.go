package federation

import "encoding/json"

// The top-level members of a JSON object, found by a scan of the bytes
// without decoding them: the inbox's check for repeated keys and the
// Announce's embedded activity need no more (issue 13). Every function
// here takes JSON already known to be valid (json.Valid, json.Compact):
// on anything else it may panic.

// eachMember calls fn with the raw key (quotes and escapes as written)
// and the span [start, end) of each top-level member of obj, from its key
// to the end of its value, in order, until fn returns false.
func eachMember(obj []byte, fn func(key []byte, start, end int) bool) {
	i := skipSpace(obj, 0) + 1 // past '{'
	for {
		i = skipSpace(obj, i)
		if obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
		if obj[i] == '}' {
			return
		}
		start := i
		keyEnd := endOfString(obj, i)
		j := skipSpace(obj, skipSpace(obj, keyEnd)+1) // past ':'
		end := endOfValue(obj, j)
		if !fn(obj[start:keyEnd], start, end) {
			return
		}
		i = end
	}
}

// keyString is the string a raw key (quotes included) stands for.
func keyString(raw []byte) string {
	for _, c := range raw {
		if c == '\\' {
			var k string
			_ = json.Unmarshal(raw, &k) // valid JSON: a string
			return k
		}
	}
	return string(raw[1 : len(raw)-1])
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
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

// endOfValue returns the index after the value that starts at b[i].
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
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}
