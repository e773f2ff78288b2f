package signature

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// Limits on a draft-cavage Signature header.
const (
	maxCavageParams  = 16
	maxCavageHeaders = 32
)

// cavageParams are the parameters of a draft-cavage Signature header.
type cavageParams struct {
	keyID     string
	algorithm string // lower-case; "" when absent
	headers   []string
	created   string // as sent; "" when absent
	expires   string
	signature []byte
}

// covers reports whether name is in the signed headers list.
func (p *cavageParams) covers(name string) bool {
	for _, h := range p.headers {
		if h == name {
			return true
		}
	}
	return false
}

// cavageHeader returns the draft-cavage signature parameters of r, from the
// Signature header or else from "Authorization: Signature ...". ok is false
// when the request carries neither.
func cavageHeader(h http.Header) (params string, ok bool, err error) {
	if sigs := h.Values("Signature"); len(sigs) > 0 {
		if len(sigs) > 1 {
			return "", true, reject("more than one Signature header")
		}
		if len(sigs[0]) > maxFieldLen {
			return "", true, reject("Signature header too large")
		}
		return sigs[0], true, nil
	}
	found := false
	for _, a := range h.Values("Authorization") {
		scheme, rest, _ := strings.Cut(strings.TrimLeft(a, " "), " ")
		if !strings.EqualFold(scheme, "Signature") {
			continue
		}
		if found {
			return "", true, reject("more than one Authorization: Signature header")
		}
		if len(rest) > maxFieldLen {
			return "", true, reject("Authorization header too large")
		}
		params, found = rest, true
	}
	return params, found, nil
}

// parseCavageParams parses the parameter list of a draft-cavage signature
// (draft-cavage-http-signatures-12 §4.1). It tolerates spaces around the
// commas, which go-fed/httpsig's own parser does not, and unquoted values
// (Mastodon sends created and expires unquoted). It rejects duplicate
// parameters, an empty headers list and a signature that is not base64.
// Unknown parameters are ignored, as the draft requires.
func parseCavageParams(s string) (*cavageParams, error) {
	p := &cavageParams{}
	var seen []string
	var headers string
	hasHeaders := false
	i := 0
	skipOWS := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	for {
		skipOWS()
		start := i
		for i < len(s) && isTChar(s[i]) && s[i] != '=' {
			i++
		}
		key := s[start:i]
		if key == "" || i == len(s) || s[i] != '=' {
			return nil, errors.New("malformed parameter")
		}
		i++
		var val string
		if i < len(s) && s[i] == '"' {
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, errors.New("unterminated quoted value")
			}
			val = s[i+1 : i+1+end]
			i += end + 2
		} else {
			start := i
			for i < len(s) && s[i] != ',' && s[i] != ' ' && s[i] != '\t' {
				i++
			}
			val = s[start:i]
		}
		for _, k := range seen {
			if k == key {
				return nil, fmt.Errorf("duplicate parameter %s", quote(key))
			}
		}
		if seen = append(seen, key); len(seen) > maxCavageParams {
			return nil, errors.New("too many parameters")
		}
		switch key {
		case "keyId":
			p.keyID = val
		case "algorithm":
			p.algorithm = strings.ToLower(val)
		case "headers":
			headers, hasHeaders = val, true
		case "created":
			p.created = val
		case "expires":
			p.expires = val
		case "signature":
			sig, err := base64.StdEncoding.DecodeString(val)
			if err != nil {
				return nil, errors.New("signature is not base64")
			}
			p.signature = sig
		}
		skipOWS()
		if i == len(s) {
			break
		}
		if s[i] != ',' {
			return nil, errors.New("malformed parameter")
		}
		i++
	}
	if p.keyID == "" {
		return nil, errors.New("missing keyId")
	}
	if len(p.signature) == 0 {
		return nil, errors.New("missing signature")
	}
	if p.created != "" {
		if _, err := strconv.ParseInt(p.created, 10, 64); err != nil {
			return nil, errors.New("malformed created")
		}
	}
	if p.expires != "" {
		if _, err := unixSeconds(p.expires); err != nil {
			return nil, errors.New("malformed expires")
		}
	}
	if !hasHeaders {
		// Draft-cavage before version 10 made "date" the default, and the
		// published C.1 test vector relies on it; go-fed/httpsig does the same.
		p.headers = []string{"date"}
		return p, nil
	}
	p.headers = strings.Fields(strings.ToLower(headers))
	if len(p.headers) == 0 {
		return nil, errors.New("empty headers parameter")
	}
	if len(p.headers) > maxCavageHeaders {
		return nil, errors.New("too many signed headers")
	}
	for i, h := range p.headers {
		if !validCavageHeader(h) {
			return nil, fmt.Errorf("bad header name %s", quote(h))
		}
		for _, prev := range p.headers[:i] {
			if prev == h {
				return nil, fmt.Errorf("header %s signed twice", quote(h))
			}
		}
	}
	return p, nil
}

// unixSeconds parses a created or expires value. The draft allows a decimal
// fraction for expires; it is dropped.
func unixSeconds(v string) (int64, error) {
	whole, frac, _ := strings.Cut(v, ".")
	for i := 0; i < len(frac); i++ {
		if !isDigit(frac[i]) {
			return 0, errors.New("not a number")
		}
	}
	return strconv.ParseInt(whole, 10, 64)
}

// validCavageHeader reports whether h is a token or one of the draft's
// pseudo-headers.
func validCavageHeader(h string) bool {
	switch h {
	case "(request-target)", "(created)", "(expires)":
		return true
	}
	for i := 0; i < len(h); i++ {
		if !isTChar(h[i]) {
			return false
		}
	}
	return true
}

// hostValue returns the host the request was addressed to: the Host header
// when the request carries one in r.Header (client requests), else r.Host
// (server requests, where net/http moves Host out of the header map).
func hostValue(r *http.Request) string {
	if h := r.Header.Get("Host"); h != "" {
		return h
	}
	return r.Host
}

// requestTarget returns the draft-cavage (request-target) value: the method
// in lower case, a space and the request URI as sent on the wire.
func requestTarget(r *http.Request) string {
	return strings.ToLower(r.Method) + " " + r.URL.RequestURI()
}

// cavageSigningString builds the string to sign for r
// (draft-cavage-http-signatures-12 §2.3): one "name: value" line per signed
// header, values trimmed and repeated fields joined with ", ", no final
// newline. An empty value gives "name: ", as go-fed/httpsig and Mastodon
// write it.
func cavageSigningString(r *http.Request, p *cavageParams) (string, error) {
	var b strings.Builder
	for i, h := range p.headers {
		var v string
		switch h {
		case "(request-target)":
			v = requestTarget(r)
		case "(created)":
			if p.created == "" {
				return "", errors.New("(created) signed without created parameter")
			}
			v = p.created
		case "(expires)":
			if p.expires == "" {
				return "", errors.New("(expires) signed without expires parameter")
			}
			v = p.expires
		case "host":
			v = strings.TrimSpace(hostValue(r))
		default:
			vals := r.Header.Values(h)
			if len(vals) == 0 {
				return "", fmt.Errorf("signed header %s missing", quote(h))
			}
			trimmed := make([]string, len(vals))
			for i, val := range vals {
				trimmed[i] = strings.TrimSpace(val)
			}
			v = strings.Join(trimmed, ", ")
		}
		if strings.ContainsAny(v, "\r\n") {
			return "", fmt.Errorf("signed header %s contains a line break", quote(h))
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(h)
		b.WriteString(": ")
		b.WriteString(v)
	}
	return b.String(), nil
}

// parseCavage reads and checks a draft-cavage signature.
func parseCavage(r *http.Request, raw string, body []byte, opt *Options) (*Signed, error) {
	p, err := parseCavageParams(raw)
	if err != nil {
		return nil, reject("malformed signature: %v", err)
	}
	// Mastodon accepts rsa-sha256 and hs2019 (absent means hs2019); ed25519
	// keys may name their algorithm. hmac-*, rsa-sha1 and anything else are
	// refused: we hold no shared secrets, and SHA-1 is broken.
	switch p.algorithm {
	case "", "hs2019", "rsa-sha256", "ed25519":
	default:
		return nil, reject("unsupported algorithm %s", quote(p.algorithm))
	}
	usesCreated := p.covers("(created)") || p.covers("(expires)")
	if usesCreated && p.algorithm != "" && p.algorithm != "hs2019" {
		// Draft-cavage-12 §2.3: (created) and (expires) are an error with
		// algorithms other than hs2019; Mastodon refuses them too.
		return nil, reject("(created) and (expires) need algorithm hs2019")
	}
	if p.covers("signature") {
		return nil, reject("signature header cannot be signed")
	}
	// CVE-2023-49079 (Misskey): a signature that does not bind the target,
	// host, time and body can be replayed against anything.
	if !p.covers("(request-target)") {
		return nil, reject("(request-target) not signed")
	}
	if !p.covers("host") {
		return nil, reject("host not signed")
	}
	if !p.covers("date") && !p.covers("(created)") {
		return nil, reject("date not signed")
	}
	if hasBody(r, body) && !p.covers("digest") && !p.covers("content-digest") {
		return nil, reject("digest not signed")
	}

	now := opt.Now()
	if p.covers("(created)") {
		if p.created == "" {
			return nil, reject("(created) signed without created parameter")
		}
		created, _ := strconv.ParseInt(p.created, 10, 64)
		if err := checkWindow("created", unixTime(created), now, opt); err != nil {
			return nil, err
		}
	}
	if p.expires != "" {
		expires, _ := unixSeconds(p.expires)
		if now.After(unixTime(expires)) {
			return nil, reject("signature expired")
		}
	}
	if p.covers("date") {
		if err := checkDate(r.Header, now, opt); err != nil {
			return nil, err
		}
	}
	if err := checkHost(hostValue(r), wantHost(r, opt)); err != nil {
		return nil, err
	}
	if err := checkBodyDigests(r.Header, body, p.covers); err != nil {
		return nil, err
	}
	return newCavageSigned(r, p)
}

// newCavageSigned builds the Signed for a parsed draft-cavage signature
// without applying any policy; Parse applies the policy first.
func newCavageSigned(r *http.Request, p *cavageParams) (*Signed, error) {
	base, err := cavageSigningString(r, p)
	if err != nil {
		return nil, reject("%v", err)
	}
	s := &Signed{
		scheme:    SchemeCavage,
		keyID:     p.keyID,
		headers:   p.headers,
		algorithm: p.algorithm,
		base:      base,
		signature: p.signature,
	}
	// go-fed/httpsig checks created and expires against the wall clock with
	// 10 seconds of slack, which is stricter than our window and ignores
	// Options.Now; those signatures are verified by hand instead. It also
	// cannot see an Authorization header that is itself signed.
	if !p.covers("(created)") && !p.covers("(expires)") && !p.covers("authorization") {
		s.goFed = goFedRequest(r, p)
	}
	return s, nil
}

// goFedRequest returns a request for httpsig.NewVerifier that holds only
// what was signed, with a Signature header re-serialised from p: go-fed's
// own parser splits on "," without trimming spaces. Its URL Path is the
// exact request URI, because go-fed builds (request-target) from Path and
// RawQuery.
func goFedRequest(r *http.Request, p *cavageParams) *http.Request {
	h := make(http.Header, len(p.headers)+1)
	for _, name := range p.headers {
		if !strings.HasPrefix(name, "(") && name != "host" {
			k := textproto.CanonicalMIMEHeaderKey(name)
			h[k] = append([]string(nil), r.Header[k]...)
		}
	}
	h["Host"] = []string{hostValue(r)}
	h["Signature"] = []string{`keyId="k",algorithm="hs2019",headers="` +
		strings.Join(p.headers, " ") + `",signature="` +
		base64.StdEncoding.EncodeToString(p.signature) + `"`}
	return &http.Request{
		Method: r.Method,
		URL:    &url.URL{Path: r.URL.RequestURI()},
		Host:   hostValue(r),
		Header: h,
	}
}
