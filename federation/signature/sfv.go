package signature

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file holds the subset of RFC 8941 Structured Field Values that RFC
// 9421 and RFC 9530 need: dictionaries whose members are items or inner
// lists, with parameters. Bare items may be integers, strings, tokens, byte
// sequences and booleans; decimals are not used by either RFC and are
// rejected.

// Limits that keep a hostile field cheap to reject.
const (
	maxMembers = 16 // dictionary members (signatures, digests)
	maxItems   = 32 // items in an inner list (covered components)
	maxParams  = 16 // parameters on one item or inner list
)

// sfToken is a bare token, kept apart from a string so that it serialises
// without quotes.
type sfToken string

// sfParam is one parameter. Its value is an int64, string, sfToken, []byte
// or bool.
type sfParam struct {
	key   string
	value any
}

// sfItem is a bare item with its parameters.
type sfItem struct {
	value  any
	params []sfParam
}

// sfMember is one dictionary member: an item, or an inner list with the
// list's parameters.
type sfMember struct {
	key        string
	item       sfItem
	isList     bool
	list       []sfItem
	listParams []sfParam
}

// param returns the value of the named parameter, or nil.
func param(params []sfParam, key string) any {
	for _, p := range params {
		if p.key == key {
			return p.value
		}
	}
	return nil
}

type sfParser struct {
	s string
	i int
}

var errSF = errors.New("malformed structured field")

// parseDictionary parses an RFC 8941 dictionary (§4.2.2). Unlike the RFC,
// which lets a later duplicate key win, it rejects duplicates: two
// signatures or digests under one label are ambiguous.
func parseDictionary(s string) ([]sfMember, error) {
	p := &sfParser{s: strings.Trim(s, " ")}
	var out []sfMember
	for p.i < len(p.s) {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		for _, m := range out {
			if m.key == key {
				return nil, fmt.Errorf("duplicate dictionary key %q", key)
			}
		}
		m := sfMember{key: key}
		if p.peek() == '=' {
			p.i++
			if p.peek() == '(' {
				m.isList = true
				if m.list, m.listParams, err = p.innerList(); err != nil {
					return nil, err
				}
			} else if m.item, err = p.item(); err != nil {
				return nil, err
			}
		} else {
			m.item.value = true
			if m.item.params, err = p.params(); err != nil {
				return nil, err
			}
		}
		if out = append(out, m); len(out) > maxMembers {
			return nil, errors.New("too many dictionary members")
		}
		p.skipOWS()
		if p.i == len(p.s) {
			break
		}
		if p.s[p.i] != ',' {
			return nil, errSF
		}
		p.i++
		p.skipOWS()
		if p.i == len(p.s) {
			return nil, errSF // trailing comma
		}
	}
	return out, nil
}

func (p *sfParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *sfParser) skipOWS() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func isLCAlpha(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool   { return isLCAlpha(c) || c >= 'A' && c <= 'Z' }

// isTChar reports whether c is an RFC 9110 token character.
func isTChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (p *sfParser) key() (string, error) {
	start := p.i
	if c := p.peek(); !isLCAlpha(c) && c != '*' {
		return "", errSF
	}
	for p.i < len(p.s) {
		c := p.s[p.i]
		if !isLCAlpha(c) && !isDigit(c) && c != '_' && c != '-' && c != '.' && c != '*' {
			break
		}
		p.i++
	}
	return p.s[start:p.i], nil
}

func (p *sfParser) innerList() ([]sfItem, []sfParam, error) {
	p.i++ // '('
	var items []sfItem
	for p.i < len(p.s) {
		for p.peek() == ' ' {
			p.i++
		}
		if p.peek() == ')' {
			p.i++
			params, err := p.params()
			return items, params, err
		}
		it, err := p.item()
		if err != nil {
			return nil, nil, err
		}
		if items = append(items, it); len(items) > maxItems {
			return nil, nil, errors.New("too many inner list items")
		}
		if c := p.peek(); c != ' ' && c != ')' {
			return nil, nil, errSF
		}
	}
	return nil, nil, errSF
}

func (p *sfParser) item() (sfItem, error) {
	v, err := p.bareItem()
	if err != nil {
		return sfItem{}, err
	}
	params, err := p.params()
	return sfItem{value: v, params: params}, err
}

func (p *sfParser) params() ([]sfParam, error) {
	var out []sfParam
	for p.peek() == ';' {
		p.i++
		for p.peek() == ' ' {
			p.i++
		}
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		var v any = true
		if p.peek() == '=' {
			p.i++
			if v, err = p.bareItem(); err != nil {
				return nil, err
			}
		}
		if param(out, key) != nil {
			return nil, fmt.Errorf("duplicate parameter %q", key)
		}
		if out = append(out, sfParam{key: key, value: v}); len(out) > maxParams {
			return nil, errors.New("too many parameters")
		}
	}
	return out, nil
}

func (p *sfParser) bareItem() (any, error) {
	c := p.peek()
	switch {
	case c == '-' || isDigit(c):
		return p.integer()
	case c == '"':
		return p.str()
	case c == '*' || isAlpha(c):
		start := p.i
		for p.i < len(p.s) && (isTChar(p.s[p.i]) || p.s[p.i] == ':' || p.s[p.i] == '/') {
			p.i++
		}
		return sfToken(p.s[start:p.i]), nil
	case c == ':':
		end := strings.IndexByte(p.s[p.i+1:], ':')
		if end < 0 {
			return nil, errSF
		}
		enc := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		b, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			// RFC 8941 §4.2.7: parsers should not fail when padding is missing.
			if b, err = base64.RawStdEncoding.DecodeString(enc); err != nil {
				return nil, errSF
			}
		}
		return b, nil
	case c == '?':
		if p.i+1 < len(p.s) && (p.s[p.i+1] == '0' || p.s[p.i+1] == '1') {
			p.i += 2
			return p.s[p.i-1] == '1', nil
		}
	}
	return nil, errSF
}

func (p *sfParser) integer() (int64, error) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.s) && isDigit(p.s[p.i]) {
		p.i++
	}
	if n := p.i - digits; n == 0 || n > 15 || p.peek() == '.' {
		return 0, errSF
	}
	return strconv.ParseInt(p.s[start:p.i], 10, 64)
}

func (p *sfParser) str() (string, error) {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.i == len(p.s) || (p.s[p.i] != '"' && p.s[p.i] != '\\') {
				return "", errSF
			}
			b.WriteByte(p.s[p.i])
			p.i++
		case c == '"':
			return b.String(), nil
		case c < 0x20 || c > 0x7e:
			return "", errSF
		default:
			b.WriteByte(c)
		}
	}
	return "", errSF
}

// writeBareItem serialises a bare item (RFC 8941 §4.1.3).
func writeBareItem(b *strings.Builder, v any) {
	switch v := v.(type) {
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case string:
		b.WriteByte('"')
		for i := 0; i < len(v); i++ {
			if v[i] == '"' || v[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(v[i])
		}
		b.WriteByte('"')
	case sfToken:
		b.WriteString(string(v))
	case []byte:
		b.WriteByte(':')
		b.WriteString(base64.StdEncoding.EncodeToString(v))
		b.WriteByte(':')
	case bool:
		if v {
			b.WriteString("?1")
		} else {
			b.WriteString("?0")
		}
	}
}

func writeParams(b *strings.Builder, params []sfParam) {
	for _, p := range params {
		b.WriteByte(';')
		b.WriteString(p.key)
		if v, ok := p.value.(bool); ok && v {
			continue
		}
		b.WriteByte('=')
		writeBareItem(b, p.value)
	}
}

// serializeItem serialises an item with its parameters.
func serializeItem(it sfItem) string {
	var b strings.Builder
	writeBareItem(&b, it.value)
	writeParams(&b, it.params)
	return b.String()
}

// serializeInnerList serialises an inner list with its parameters.
func serializeInnerList(items []sfItem, params []sfParam) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, it := range items {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeBareItem(&b, it.value)
		writeParams(&b, it.params)
	}
	b.WriteByte(')')
	writeParams(&b, params)
	return b.String()
}
