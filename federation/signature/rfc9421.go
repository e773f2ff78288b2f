package signature

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// sigInput is one signature's entry in the Signature-Input dictionary: the
// covered components and the signature parameters (RFC 9421 §4.1).
type sigInput struct {
	label      string
	components []sfItem
	params     []sfParam
	keyID      string
	alg        string
	created    int64
	expires    int64
	hasCreated bool
	hasExpires bool
}

// parseSigInput reads one Signature-Input member.
func parseSigInput(m sfMember) (*sigInput, error) {
	if !m.isList {
		return nil, fmt.Errorf("signature %s is not an inner list", quote(m.key))
	}
	si := &sigInput{label: m.key, components: m.list, params: m.listParams}
	for i, c := range m.list {
		name, ok := c.value.(string)
		if !ok || name == "" {
			return nil, errors.New("component identifier is not a string")
		}
		// RFC 9421 §2.1: field names are lower-cased in component identifiers.
		if name != strings.ToLower(name) {
			return nil, fmt.Errorf("component %s is not lower-case", quote(name))
		}
		// RFC 9421 §2.5: the same identifier must not be covered twice.
		id := serializeItem(c)
		for _, prev := range m.list[:i] {
			if serializeItem(prev) == id {
				return nil, fmt.Errorf("component %s covered twice", quote(id))
			}
		}
	}
	for _, p := range m.listParams {
		switch p.key {
		case "created", "expires":
			v, ok := p.value.(int64)
			if !ok {
				return nil, fmt.Errorf("%s is not an integer", p.key)
			}
			if p.key == "created" {
				si.created, si.hasCreated = v, true
			} else {
				si.expires, si.hasExpires = v, true
			}
		case "keyid", "alg", "nonce", "tag":
			v, ok := p.value.(string)
			if !ok {
				return nil, fmt.Errorf("%s is not a string", p.key)
			}
			switch p.key {
			case "keyid":
				si.keyID = v
			case "alg":
				si.alg = v
			}
		}
	}
	return si, nil
}

// covers reports whether a component with the given name (ignoring its
// parameters) is covered.
func (si *sigInput) covers(name string) bool {
	for _, c := range si.components {
		if c.value == name {
			return true
		}
	}
	return false
}

// identifiers returns the covered component identifiers without quotes
// around the name, such as "@method" or `@query-param;name="page"`.
func (si *sigInput) identifiers() []string {
	out := make([]string, len(si.components))
	for i, c := range si.components {
		var b strings.Builder
		b.WriteString(c.value.(string))
		writeParams(&b, c.params)
		out[i] = b.String()
	}
	return out
}

// message holds what a signature base is built from: a request's derived
// components, or a response's status, plus the header fields.
type message struct {
	request   bool
	method    string
	scheme    string
	authority string // normalised: lower case, no default port
	host      string // as sent, for a "host" field component
	path      string
	query     string // without "?"
	target    string // request-target as sent
	status    int
	header    http.Header
}

// requestMessage describes r for RFC 9421, with the given URI scheme.
func requestMessage(r *http.Request, scheme string) *message {
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	host := hostValue(r)
	return &message{
		request:   true,
		method:    r.Method,
		scheme:    scheme,
		authority: normalizeAuthority(host, scheme),
		host:      host,
		path:      path,
		query:     r.URL.RawQuery,
		target:    r.URL.RequestURI(),
		header:    r.Header,
	}
}

// requestScheme returns the scheme for @scheme and @target-uri.
func requestScheme(r *http.Request, opt *Options) string {
	switch {
	case opt.Scheme != "":
		return strings.ToLower(opt.Scheme)
	case r.URL.Scheme != "":
		return strings.ToLower(r.URL.Scheme)
	}
	return "https"
}

// normalizeAuthority lower-cases host and drops the scheme's default port
// (RFC 9421 §2.2.3).
func normalizeAuthority(host, scheme string) string {
	host = strings.ToLower(strings.TrimSpace(host))
	switch {
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	}
	return host
}

// componentValue returns the value of one covered component (RFC 9421 §2.1
// and §2.2). Only the name parameter of @query-param is supported; the sf,
// key, bs, req and tr parameters are refused.
func componentValue(m *message, c sfItem) (string, error) {
	name := c.value.(string)
	if name == "@query-param" {
		n, ok := param(c.params, "name").(string)
		if !ok || len(c.params) != 1 {
			return "", errors.New("@query-param needs a name parameter and no other")
		}
		if !m.request {
			return "", errors.New("@query-param in a response")
		}
		return queryParam(m.query, n)
	}
	if len(c.params) > 0 {
		return "", fmt.Errorf("unsupported parameter on component %s", quote(name))
	}
	if strings.HasPrefix(name, "@") {
		if name == "@status" {
			if m.request {
				return "", errors.New("@status in a request")
			}
			return strconv.Itoa(m.status), nil
		}
		if !m.request {
			return "", fmt.Errorf("%s in a response", quote(name))
		}
		switch name {
		case "@method":
			return m.method, nil
		case "@target-uri":
			return m.scheme + "://" + m.authority + m.target, nil
		case "@authority":
			return m.authority, nil
		case "@scheme":
			return m.scheme, nil
		case "@request-target":
			return m.target, nil
		case "@path":
			return m.path, nil
		case "@query":
			return "?" + m.query, nil
		}
		return "", fmt.Errorf("unsupported component %s", quote(name))
	}
	vals := m.header.Values(name)
	if len(vals) == 0 && name == "host" && m.request && m.host != "" {
		vals = []string{m.host} // net/http moves Host out of the header map
	}
	if len(vals) == 0 {
		return "", fmt.Errorf("covered field %s missing", quote(name))
	}
	trimmed := make([]string, len(vals))
	for i, v := range vals {
		trimmed[i] = strings.Trim(v, " \t")
	}
	return strings.Join(trimmed, ", "), nil
}

// queryParam returns the value of the named query parameter
// (RFC 9421 §2.2.8): names and values are decoded as
// application/x-www-form-urlencoded and re-encoded with formEncode. A name
// that occurs more than once must not be signed, so it is an error.
func queryParam(rawQuery, name string) (string, error) {
	var found []string
	for _, part := range strings.Split(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			return "", errors.New("malformed query")
		}
		if formEncode(dk) != name {
			continue
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return "", errors.New("malformed query")
		}
		found = append(found, formEncode(dv))
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("query parameter %s missing", quote(name))
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("query parameter %s repeated", quote(name))
}

// formEncode percent-encodes every byte outside the
// application/x-www-form-urlencoded safe set (ASCII letters, digits and
// "*-._"), writing a space as %20 (RFC 9421 §2.2.8).
func formEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || c == '*' || c == '-' || c == '.' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// signatureBase builds the signature base (RFC 9421 §2.5): one line per
// covered component, then the "@signature-params" line, with no final
// newline.
func signatureBase(m *message, si *sigInput) (string, error) {
	var b strings.Builder
	for _, c := range si.components {
		v, err := componentValue(m, c)
		if err != nil {
			return "", err
		}
		if strings.ContainsAny(v, "\r\n") {
			return "", fmt.Errorf("component %s contains a line break", quote(c.value.(string)))
		}
		b.WriteString(serializeItem(c))
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteByte('\n')
	}
	b.WriteString(`"@signature-params": `)
	b.WriteString(serializeInnerList(si.components, si.params))
	return b.String(), nil
}

// parse9421 reads the Signature-Input and Signature dictionaries and
// returns the first signature that meets our requirements, or the reason
// the first one did not.
func parse9421(r *http.Request, body []byte, opt *Options) (*Signed, error) {
	rawInput, err := fieldValue(r.Header, "Signature-Input")
	if err != nil {
		return nil, err
	}
	rawSig, err := fieldValue(r.Header, "Signature")
	if err != nil {
		return nil, err
	}
	inputs, err := parseDictionary(rawInput)
	if err != nil {
		return nil, reject("malformed Signature-Input: %v", err)
	}
	if len(inputs) == 0 {
		return nil, reject("empty Signature-Input")
	}
	sigMembers, err := parseDictionary(rawSig)
	if err != nil {
		return nil, reject("malformed Signature: %v", err)
	}
	sigs := make(map[string][]byte, len(sigMembers))
	for _, m := range sigMembers {
		b, ok := m.item.value.([]byte)
		if m.isList || !ok || len(b) == 0 {
			return nil, reject("malformed Signature: %s is not a byte sequence", quote(m.key))
		}
		sigs[m.key] = b
	}
	msg := requestMessage(r, requestScheme(r, opt))
	var first error
	for _, in := range inputs {
		s, err := accept9421(in, sigs, msg, r, body, opt)
		if err == nil {
			return s, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// accept9421 checks one signature against our requirements.
func accept9421(in sfMember, sigs map[string][]byte, msg *message, r *http.Request, body []byte, opt *Options) (*Signed, error) {
	si, err := parseSigInput(in)
	if err != nil {
		return nil, reject("malformed Signature-Input: %v", err)
	}
	sig, ok := sigs[si.label]
	if !ok {
		return nil, reject("no Signature for label %s", quote(si.label))
	}
	if si.keyID == "" {
		return nil, reject("missing keyid")
	}
	switch si.alg {
	case "", algRSAv15SHA256, algRSAPSSSHA512, algECDSAP256SHA256, algEd25519:
	case algHMACSHA256:
		return nil, reject("hmac-sha256 not accepted")
	default:
		return nil, reject("unsupported algorithm %s", quote(si.alg))
	}
	if !si.covers("@method") {
		return nil, reject("@method not covered")
	}
	if !si.covers("@target-uri") && !(si.covers("@authority") && (si.covers("@path") || si.covers("@request-target"))) {
		return nil, reject("@target-uri, or @authority and @path, not covered")
	}
	if hasBody(r, body) && !si.covers("content-digest") && !si.covers("digest") {
		return nil, reject("content-digest not covered")
	}
	if !si.hasCreated {
		return nil, reject("missing created")
	}
	now := opt.Now()
	if err := checkWindow("created", unixTime(si.created), now, opt); err != nil {
		return nil, err
	}
	if si.hasExpires && now.After(unixTime(si.expires)) {
		return nil, reject("signature expired")
	}
	if si.covers("date") {
		if err := checkDate(r.Header, now, opt); err != nil {
			return nil, err
		}
	}
	if err := checkHost(msg.authority, normalizeAuthority(wantHost(r, opt), msg.scheme)); err != nil {
		return nil, err
	}
	if err := checkBodyDigests(r.Header, body, si.covers); err != nil {
		return nil, err
	}
	base, err := signatureBase(msg, si)
	if err != nil {
		return nil, reject("%v", err)
	}
	return &Signed{
		scheme:    SchemeRFC9421,
		keyID:     si.keyID,
		headers:   si.identifiers(),
		algorithm: si.alg,
		base:      base,
		signature: sig,
	}, nil
}
