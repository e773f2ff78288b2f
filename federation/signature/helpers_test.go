package signature

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readTestdata returns the bytes of a file under testdata.
func readTestdata(t testing.TB, path ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, path...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readCase decodes a case.json file into v.
func readCase(t testing.TB, v any, path ...string) {
	t.Helper()
	if err := json.Unmarshal(readTestdata(t, path...), v); err != nil {
		t.Fatalf("decode %s: %v", filepath.Join(path...), err)
	}
}

// wireMessage turns a test-vector message file (LF line ends, body after a
// blank line, no final newline) into HTTP/1.1 wire bytes.
func wireMessage(data []byte) []byte {
	head, body, _ := bytes.Cut(data, []byte("\n\n"))
	var b bytes.Buffer
	b.Write(bytes.ReplaceAll(head, []byte("\n"), []byte("\r\n")))
	b.WriteString("\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}

// readRequest parses a test-vector request file as a server would receive
// it, and returns the request and its body.
func readRequest(t testing.TB, path ...string) (*http.Request, []byte) {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(wireMessage(readTestdata(t, path...)))))
	if err != nil {
		t.Fatalf("read request %s: %v", filepath.Join(path...), err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r, body
}

// readPublicKey parses an SPKI or PKCS#1 public key PEM file.
func readPublicKey(t testing.TB, path ...string) crypto.PublicKey {
	t.Helper()
	block, _ := pem.Decode(readTestdata(t, path...))
	if block == nil {
		t.Fatalf("%s: no PEM block", filepath.Join(path...))
	}
	var (
		k   crypto.PublicKey
		err error
	)
	switch block.Type {
	case "RSA PUBLIC KEY":
		k, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		k, err = x509.ParsePKIXPublicKey(block.Bytes)
	}
	if err != nil {
		t.Fatalf("parse %s: %v", filepath.Join(path...), err)
	}
	return k
}

// readPrivateKey parses a PKCS#1 or PKCS#8 private key PEM file.
func readPrivateKey(t testing.TB, path ...string) crypto.Signer {
	t.Helper()
	block, _ := pem.Decode(readTestdata(t, path...))
	if block == nil {
		t.Fatalf("%s: no PEM block", filepath.Join(path...))
	}
	var (
		k   any
		err error
	)
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		t.Fatalf("parse %s: %v", filepath.Join(path...), err)
	}
	return k.(crypto.Signer)
}

// fixedClock returns an Options.Now that always returns t.
func fixedClock(t time.Time) func() time.Time {
	return func() time.Time { return t }
}

// wantReject fails the test unless err is an *Error whose reason contains
// want.
func wantReject(t *testing.T, what string, err error, want string) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("%s: got error %v (%T), want *Error with reason containing %q", what, err, err, want)
	}
	if !strings.Contains(e.Reason, want) {
		t.Fatalf("%s: got reason %q, want it to contain %q", what, e.Reason, want)
	}
}

// itoa formats a Unix time for a signature parameter.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
