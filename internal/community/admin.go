package community

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/coppice-dev/coppice/storage"
	"golang.org/x/crypto/argon2"
)

// Password rules for console accounts.
const (
	MinPassword = 10
	MaxPassword = 1024
)

var usernameRE = regexp.MustCompile(`^[a-z0-9_.-]{2,64}$`)

// argon2id parameters (RFC 9106 §4, second recommended option, with less
// memory so a small instance can afford it).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
)

// CreateAdmin creates an instance admin account with an argon2id hash of
// password.
func (s *Service) CreateAdmin(ctx context.Context, username, password string) (storage.Admin, error) {
	errs := map[string]string{}
	if !usernameRE.MatchString(username) {
		errs["username"] = "use 2 to 64 lower-case letters, digits, dots, dashes or underscores"
	}
	if len(password) < MinPassword {
		errs["password"] = fmt.Sprintf("at least %d characters", MinPassword)
	} else if len(password) > MaxPassword {
		errs["password"] = fmt.Sprintf("at most %d bytes", MaxPassword)
	}
	if len(errs) > 0 {
		return storage.Admin{}, &InvalidError{Fields: errs}
	}
	hash, err := hashPassword(password)
	if err != nil {
		return storage.Admin{}, err
	}
	return s.store.CreateAdmin(ctx, storage.Admin{Username: username, PasswordHash: hash, CreatedAt: s.now()})
}

// CheckPassword returns the account when password matches, ErrForbidden
// otherwise (also for an unknown username).
func (s *Service) CheckPassword(ctx context.Context, username, password string) (storage.Admin, error) {
	a, err := s.store.AdminByUsername(ctx, username)
	if errors.Is(err, storage.ErrNotFound) {
		// Hash anyway, so an unknown username takes as long as a wrong
		// password and names cannot be probed by timing.
		checkPassword(unknownUserHash, password)
		return storage.Admin{}, ErrForbidden
	}
	if err != nil {
		return storage.Admin{}, err
	}
	if !checkPassword(a.PasswordHash, password) {
		return storage.Admin{}, ErrForbidden
	}
	return a, nil
}

// unknownUserHash is a fixed, valid argon2id hash (of no password anyone
// types) that unknown usernames are checked against.
const unknownUserHash = "$argon2id$v=19$m=65536,t=3,p=2$c29tZXNhbHRzb21lc2FsdA$3TuFAVRmoBUHk5MPAFKlrOK2QqM3Zx43zjLmZDAgVJg"

func hashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

func checkPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
