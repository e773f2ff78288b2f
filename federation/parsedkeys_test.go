package federation

import (
	"crypto/rsa"
	"fmt"
	"testing"

	"github.com/coppice-dev/coppice/internal/keypair"
)

// TestParsedKeys: a key's PEM text is parsed once and its parse reused;
// another text (a rotated key) gets its own parse; a text that does not
// parse is an error every time and is not kept; the map is bounded.
func TestParsedKeys(t *testing.T) {
	_, pemA, err := keypair.Generate()
	if err != nil {
		t.Fatal(err)
	}
	_, pemB, err := keypair.Generate()
	if err != nil {
		t.Fatal(err)
	}
	var p parsedKeys
	a1, err := p.get(pemA)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := p.get(pemA)
	if err != nil {
		t.Fatal(err)
	}
	if a1.(*rsa.PublicKey) != a2.(*rsa.PublicKey) {
		t.Error("the same PEM text was parsed twice")
	}
	b, err := p.get(pemB)
	if err != nil {
		t.Fatal(err)
	}
	if b.(*rsa.PublicKey).Equal(a1) {
		t.Error("another PEM text gave the first key")
	}
	for range 2 {
		if _, err := p.get("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"); err == nil {
			t.Error("a PEM block that is no key parsed")
		}
	}
	if len(p.keys) != 2 {
		t.Errorf("%d keys kept, want the 2 that parsed", len(p.keys))
	}
	for i := range parsedKeysSize + 10 {
		// Distinct texts of one key: PEM allows headers.
		if _, err := p.get(fmt.Sprintf("-----BEGIN PUBLIC KEY-----\nN: %d\n", i) + pemA[len("-----BEGIN PUBLIC KEY-----\n"):]); err != nil {
			t.Fatal(err)
		}
		if len(p.keys) > parsedKeysSize {
			t.Fatalf("%d keys kept, bound %d", len(p.keys), parsedKeysSize)
		}
	}
}
