package community

import (
	"strings"
	"testing"
)

func TestUnknownUserHashIsWellFormed(t *testing.T) {
	parts := strings.Split(unknownUserHash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[3] != "m=65536,t=3,p=2" {
		t.Fatalf("unknownUserHash %q is not in the format hashPassword writes", unknownUserHash)
	}
	// checkPassword must do the full argon2 work on it: a well-formed hash
	// that no typed password matches.
	if checkPassword(unknownUserHash, "password") {
		t.Errorf("unknownUserHash matches a password")
	}
}
