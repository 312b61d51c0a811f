package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters of new hashes: OWASP's recommended minimum for
// argon2id (19 MiB, 2 passes, 1 lane), so that a sign-in costs tens of
// milliseconds, not hundreds, and a burst of them cannot exhaust memory
// (sign-ins are rate-limited as well).
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// MinPasswordLen is the shortest password HashPassword accepts.
const MinPasswordLen = 12

// ErrWeakPassword means a password is shorter than MinPasswordLen.
var ErrWeakPassword = fmt.Errorf("console: a password needs at least %d characters", MinPasswordLen)

// HashPassword returns the argon2id hash of password in the PHC string
// format: $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH (unpadded base64).
func HashPassword(password string) (string, error) {
	if len([]rune(password)) < MinPasswordLen {
		return "", ErrWeakPassword
	}
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// phc is a parsed argon2id hash.
type phc struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// Bounds on what a stored hash may ask for, so that a hash written by
// someone else cannot make a sign-in take gigabytes or minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 16
)

var errBadHash = errors.New("console: not an argon2id hash in the PHC string format")

// parseHash parses an argon2id PHC string.
func parseHash(s string) (phc, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, errBadHash
	}
	var p phc
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return phc{}, errBadHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return phc{}, errBadHash
		}
		switch k {
		case "m":
			p.memory = uint32(n)
		case "t":
			p.time = uint32(n)
		case "p":
			if n > 255 {
				return phc{}, errBadHash
			}
			p.threads = uint8(n)
		default:
			return phc{}, errBadHash
		}
	}
	if p.memory < 8*uint32(p.threads) || p.memory > maxMemoryKiB || p.time < 1 || p.time > maxTime || p.threads < 1 {
		return phc{}, errBadHash
	}
	var err error
	b64 := base64.RawStdEncoding.Strict()
	if p.salt, err = b64.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return phc{}, errBadHash
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return phc{}, errBadHash
	}
	return p, nil
}

// hashing bounds the argon2id work running at once, server-wide: each
// takes 19 MiB, so sign-ins from many addresses at once (each address is
// rate-limited on its own) wait their turn instead of adding up memory.
var hashing = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// CheckPassword reports whether password matches hash, comparing in
// constant time. A hash that does not parse matches nothing. At most
// max(2, GOMAXPROCS) checks hash at once; the others wait.
func CheckPassword(hash, password string) bool {
	p, err := parseHash(hash)
	if err != nil {
		return false
	}
	hashing <- struct{}{}
	defer func() { <-hashing }()
	key := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1
}

// dummyHash is checked against when the account does not exist, so that a
// sign-in takes as long whether or not the name is known. It is made on
// first use, not at start-up: hashing costs 40 ms of CPU, which every
// waflow command (and every test binary importing console) paid before.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not a password of anyone's")
	return h
})
