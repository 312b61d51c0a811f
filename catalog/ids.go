package catalog

import (
	"crypto/rand"
	"errors"
)

// newRef returns a reference such as "BK-7F3K2Q": a prefix and six
// characters of an alphabet without look-alikes (no 0/O, 1/I/L), about
// 30 bits of randomness; the store's unique index catches the rare clash
// and the caller draws again.
func newRef(prefix string) string {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	var b [6]byte
	rand.Read(b[:])
	out := []byte(prefix + "-")
	for _, c := range b {
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out)
}

// withRef calls save with fresh references until one is not taken.
func withRef[T any](prefix string, save func(ref string) (T, error), isTaken func(error) bool) (T, error) {
	var zero T
	for range 5 {
		v, err := save(newRef(prefix))
		if err != nil && isTaken(err) {
			continue
		}
		return v, err
	}
	return zero, errors.New("catalog: could not draw a free reference in 5 tries")
}
