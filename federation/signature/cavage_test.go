package signature

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// cavageCase is the part of a cavage-12 case.json that the tests read.
type cavageCase struct {
	Params struct {
		KeyID     string `json:"keyId"`
		Algorithm string `json:"algorithm"`
		Created   int64  `json:"created"`
		Expires   int64  `json:"expires"`
		Headers   string `json:"headers"`
		Signature string `json:"signature"`
	} `json:"authorization_header_params"`
}

// cavageVectorTime is just after the Date of the draft's test request
// (Sun, 05 Jan 2014 21:31:40 GMT).
var cavageVectorTime = time.Date(2014, 1, 5, 21, 32, 0, 0, time.UTC)

// header writes the case's parameters as a Signature header value, with
// ", " between them as the draft prints them.
func (c cavageCase) header() string {
	p := c.Params
	parts := []string{fmt.Sprintf("keyId=%q", p.KeyID), fmt.Sprintf("algorithm=%q", p.Algorithm)}
	if p.Created != 0 {
		parts = append(parts, fmt.Sprintf("created=%d", p.Created), fmt.Sprintf("expires=%d", p.Expires))
	}
	if p.Headers != "" {
		parts = append(parts, fmt.Sprintf("headers=%q", p.Headers))
	}
	parts = append(parts, fmt.Sprintf("signature=%q", p.Signature))
	return strings.Join(parts, ", ")
}

func TestCavageVectors(t *testing.T) {
	pub := readPublicKey(t, "cavage-12", "keys", "test.public.pem")
	tests := []struct {
		name string
		dir  string
		// dropHeaders are left out of the case's headers list. C.3 lists
		// (created) and (expires), but its printed signing string and its
		// signature leave them out (testdata/README).
		dropHeaders []string
	}{
		{name: "C.1 default test signs only date", dir: "c1-default-test"},
		{name: "C.2 basic test", dir: "c2-basic-test"},
		{name: "C.3 all headers test", dir: "c3-all-headers-test", dropHeaders: []string{"(created)", "(expires)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c cavageCase
			readCase(t, &c, "cavage-12", tt.dir, "case.json")
			params, err := parseCavageParams(c.header())
			if err != nil {
				t.Fatalf("parseCavageParams(%q) = %v", c.header(), err)
			}
			params.headers = slices.DeleteFunc(params.headers, func(h string) bool { return slices.Contains(tt.dropHeaders, h) })
			r, _ := readRequest(t, "cavage-12", "request.txt")

			got, err := cavageSigningString(r, params)
			if err != nil {
				t.Fatalf("cavageSigningString: %v", err)
			}
			want := string(readTestdata(t, "cavage-12", tt.dir, "signing-string.txt"))
			if got != want {
				t.Fatalf("signing string:\ngot  %q\nwant %q", got, want)
			}
			if err := verifyWith(pub, algRSAv15SHA256, []byte(got), params.signature); err != nil {
				t.Errorf("verify with the stdlib: got %v, want nil", err)
			}
			s, err := newCavageSigned(r, params)
			if err != nil {
				t.Fatalf("newCavageSigned: %v", err)
			}
			if s.goFed == nil {
				t.Fatal("got no go-fed/httpsig request, want one")
			}
			if err := s.Verify(pub); err != nil {
				t.Errorf("verify with go-fed/httpsig: got %v, want nil", err)
			}
		})
	}
}

func TestCavageSigningStringConstruction(t *testing.T) {
	var c struct {
		Headers string `json:"headers_parameter"`
		Created int64  `json:"created"`
	}
	readCase(t, &c, "cavage-12", "s2.3-signature-string-construction", "case.json")
	r, _ := readRequest(t, "cavage-12", "s2.3-signature-string-construction", "request-headers.txt")
	p := &cavageParams{headers: strings.Fields(c.Headers), created: fmt.Sprint(c.Created)}
	got, err := cavageSigningString(r, p)
	if err != nil {
		t.Fatalf("cavageSigningString: %v", err)
	}
	// The draft prints the empty header as "x-emptyheader:" with no space,
	// but its own rule (§2.3 item 4.2), go-fed/httpsig and Mastodon all write
	// the name, a colon and a space (see testdata/README).
	published := string(readTestdata(t, "cavage-12", "s2.3-signature-string-construction", "signing-string.txt"))
	want := strings.Replace(published, "x-emptyheader:\n", "x-emptyheader: \n", 1)
	if got != want {
		t.Fatalf("signing string:\ngot  %q\nwant %q", got, want)
	}
}

func TestParseRejectsCavageVectors(t *testing.T) {
	tests := []struct {
		name   string
		dir    string
		header string // "Signature" or "Authorization"
		want   string
	}{
		{"C.1 in a Signature header signs only date (SIG-03)", "c1-default-test", "Signature", "(request-target) not signed"},
		{"C.1 in an Authorization header signs only date (SIG-03)", "c1-default-test", "Authorization", "(request-target) not signed"},
		{"C.2 POST without digest (SIG-04)", "c2-basic-test", "Authorization", "digest not signed"},
		{"C.3 (created) with rsa-sha256", "c3-all-headers-test", "Signature", "(created) and (expires) need algorithm hs2019"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c cavageCase
			readCase(t, &c, "cavage-12", tt.dir, "case.json")
			r, body := readRequest(t, "cavage-12", "request.txt")
			if tt.header == "Authorization" {
				r.Header.Set("Authorization", "Signature "+c.header())
			} else {
				r.Header.Set("Signature", c.header())
			}
			s, err := Parse(r, body, Options{Now: fixedClock(cavageVectorTime)})
			if s != nil {
				t.Fatalf("Parse = %+v, want rejection", s)
			}
			wantReject(t, "Parse", err, tt.want)
		})
	}
}

func TestParseCavageParams(t *testing.T) {
	sig := base64.StdEncoding.EncodeToString([]byte("sig"))
	tests := []struct {
		name    string
		in      string
		headers []string // nil when an error is wanted
		wantErr string
	}{
		{"Mastodon layout without spaces", `keyId="k",algorithm="rsa-sha256",headers="(request-target) host date",signature="` + sig + `"`, []string{"(request-target)", "host", "date"}, ""},
		{"spaces and tabs around commas", "keyId=\"k\" ,\theaders=\"host  date\", signature=\"" + sig + "\"", []string{"host", "date"}, ""},
		{"headers upper-case", `keyId="k",headers="Host Date",signature="` + sig + `"`, []string{"host", "date"}, ""},
		{"unquoted created and unknown parameter", `keyId="k",created=1402170695,foo="bar",headers="(created)",signature="` + sig + `"`, []string{"(created)"}, ""},
		{"no headers parameter means date", `keyId="k",signature="` + sig + `"`, []string{"date"}, ""},
		{"duplicate keyId", `keyId="a",keyId="b",signature="` + sig + `"`, nil, "duplicate parameter"},
		{"empty headers", `keyId="k",headers="",signature="` + sig + `"`, nil, "empty headers"},
		{"header signed twice", `keyId="k",headers="date date",signature="` + sig + `"`, nil, "signed twice"},
		{"signature not base64", `keyId="k",signature="not base64!"`, nil, "not base64"},
		{"missing keyId", `signature="` + sig + `"`, nil, "missing keyId"},
		{"missing signature", `keyId="k"`, nil, "missing signature"},
		{"unterminated quote", `keyId="k,signature="` + sig, nil, "malformed parameter"},
		{"trailing comma", `keyId="k",signature="` + sig + `",`, nil, "malformed parameter"},
		{"garbage", `===`, nil, "malformed parameter"},
		{"empty", ``, nil, "malformed parameter"},
		{"bad created", `keyId="k",created=soon,signature="` + sig + `"`, nil, "malformed created"},
		{"header name with a comma", `keyId="k",headers="date,host",signature="` + sig + `"`, nil, "bad header name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseCavageParams(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseCavageParams(%q) = %v, want error containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseCavageParams(%q) = %v, want nil", tt.in, err)
			}
			if !slices.Equal(p.headers, tt.headers) {
				t.Errorf("parseCavageParams(%q) headers = %q, want %q", tt.in, p.headers, tt.headers)
			}
		})
	}
}
