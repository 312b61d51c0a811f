package waflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// MediaStore keeps the files users send with a flow's PhotoPicker and
// DocumentPicker (protocol.md §2.9) in the database, where every replica
// reads them, under their SHA-256. Package media's Store is built over it
// (internal/app); it is not part of Store, so that other implementations
// of Store need not keep files.
type MediaStore interface {
	// PutMedia stores f. Putting a key again keeps the first row: the
	// bytes are the same, their SHA-256 is the key.
	PutMedia(ctx context.Context, f MediaFile) error
	// GetMedia returns the file under key: ErrNotFound when there is
	// none, ErrInvalid when key is not a media key.
	GetMedia(ctx context.Context, key string) (MediaFile, error)
}

// MaxMediaBytes is the largest file a MediaStore takes: Meta's largest
// max-file-size-kb, 25 MiB (protocol.md §6.7).
const MaxMediaBytes = 25600 << 10

// MediaFile is one stored media file.
type MediaFile struct {
	// Key is the lowercase hex SHA-256 of Data.
	Key string
	// Data is the file (decrypted, checked).
	Data []byte
	// CreatedAt is when it was first stored; the store's clock when zero.
	CreatedAt time.Time
}

// Validate checks that Key is Data's SHA-256 and that Data is within
// MaxMediaBytes.
func (f MediaFile) Validate() error {
	if err := ValidateMediaKey(f.Key); err != nil {
		return err
	}
	if len(f.Data) > MaxMediaBytes {
		return Invalidf("PutMedia: %d bytes, more than %d", len(f.Data), MaxMediaBytes)
	}
	sum := sha256.Sum256(f.Data)
	if hex.EncodeToString(sum[:]) != f.Key {
		return Invalidf("PutMedia: the key is not the SHA-256 of the data")
	}
	return nil
}

// ValidateMediaKey checks that key is 64 lowercase hex digits.
func ValidateMediaKey(key string) error {
	if len(key) != 2*sha256.Size {
		return Invalidf("media key: %d characters, want 64 lowercase hex digits", len(key))
	}
	for _, c := range []byte(key) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return Invalidf("media key: want 64 lowercase hex digits")
		}
	}
	return nil
}
