package media

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Value is one file of a PhotoPicker or DocumentPicker value in a
// data_exchange request: the component's payload key holds an array of
// them (protocol.md §2.9).
type Value struct {
	// MediaID identifies the file; it is the key of the component's
	// per-file error-message object.
	MediaID string `json:"media_id"`
	// CDNURL is where WhatsApp's CDN holds the encrypted file.
	CDNURL string `json:"cdn_url"`
	// FileName is the name on the user's device. It is shown, never
	// trusted: the type comes from the content.
	FileName string `json:"file_name"`
	// EncryptionMetadata holds the keys and hashes of the file.
	EncryptionMetadata EncryptionMetadata `json:"encryption_metadata"`
}

// EncryptionMetadata is a file's encryption_metadata, every field standard
// base64 (protocol.md §2.9). EncryptionKey and HMACKey are secrets: they are
// never logged nor put in an error.
type EncryptionMetadata struct {
	EncryptedHash string `json:"encrypted_hash"` // SHA-256 of the CDN file
	IV            string `json:"iv"`             // 16 bytes
	EncryptionKey string `json:"encryption_key"` // AES-256 key, 32 bytes
	HMACKey       string `json:"hmac_key"`       // HMAC-SHA256 key, 32 bytes
	PlaintextHash string `json:"plaintext_hash"` // SHA-256 of the decrypted file
}

// MaxFiles is the most files one component value may carry: Meta's upper
// bound of max-uploaded-photos and max-uploaded-documents.
const MaxFiles = 30

// maxIDLen bounds a media_id (Meta's are UUIDs); it becomes a JSON key and a
// log field.
const maxIDLen = 128

// ParseValues reads the value of a PhotoPicker or DocumentPicker payload
// key: a JSON array of media values. It checks their shape (every field
// present, at most MaxFiles, media ids unique), not their keys' lengths,
// which Decrypt checks.
func ParseValues(raw []byte) ([]Value, error) {
	vs, err := decodeArray[Value](raw, MaxFiles, "")
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(vs))
	for i, v := range vs {
		if err := v.check(); err != nil {
			return nil, fmt.Errorf("file %d: %w", i, err)
		}
		if seen[v.MediaID] {
			return nil, fmt.Errorf("file %d: %w: media_id %q appears twice", i, ErrMetadata, v.MediaID)
		}
		seen[v.MediaID] = true
	}
	return vs, nil
}

// check reports a missing field of v by name.
func (v Value) check() error {
	switch {
	case v.MediaID == "":
		return fmt.Errorf("%w: media_id is missing", ErrMetadata)
	case len(v.MediaID) > maxIDLen || strings.ContainsFunc(v.MediaID, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%w: media_id is not an id (over %d bytes or control characters)", ErrMetadata, maxIDLen)
	case v.CDNURL == "":
		return fmt.Errorf("%w: cdn_url is missing", ErrMetadata)
	}
	m := v.EncryptionMetadata
	for _, f := range []struct{ name, v string }{
		{"encrypted_hash", m.EncryptedHash}, {"iv", m.IV}, {"encryption_key", m.EncryptionKey},
		{"hmac_key", m.HMACKey}, {"plaintext_hash", m.PlaintextHash},
	} {
		if f.v == "" {
			return fmt.Errorf("%w: encryption_metadata.%s is missing", ErrMetadata, f.name)
		}
	}
	return nil
}

// Rules are the limits of one component, from its Flow JSON.
type Rules struct {
	// MaxFileSizeKB is the component's max-file-size-kb, in KiB of the
	// file (the plaintext): 1 to 25600; 0 means the default, 25600.
	MaxFileSizeKB int
	// AllowedMIMETypes are the types a file's content may have. Empty
	// allows nothing (fail closed): use PhotoPicker or DocumentPicker.
	AllowedMIMETypes []string
}

// DefaultMaxFileSizeKB is Meta's default and largest max-file-size-kb
// (25 MiB).
const DefaultMaxFileSizeKB = 25600

// DocumentTypes are the 24 types Meta lists for a DocumentPicker's
// allowed-mime-types, and its default when the property is absent
// (protocol.md §6.7).
var DocumentTypes = []string{
	"application/gzip",
	"application/msword",
	"application/pdf",
	"application/vnd.ms-excel",
	"application/vnd.ms-powerpoint",
	"application/vnd.oasis.opendocument.presentation",
	"application/vnd.oasis.opendocument.spreadsheet",
	"application/vnd.oasis.opendocument.text",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/x-7z-compressed",
	"application/zip",
	"image/avif",
	"image/gif",
	"image/heic",
	"image/heif",
	"image/jpeg",
	"image/png",
	"image/tiff",
	"image/webp",
	"text/plain",
	"video/mp4",
	"video/mpeg",
}

// PhotoTypes are the types a PhotoPicker file may have. Meta documents no
// list for PhotoPicker; these are the image types of DocumentTypes.
var PhotoTypes = []string{"image/avif", "image/gif", "image/heic", "image/heif", "image/jpeg", "image/png", "image/tiff", "image/webp"}

// PhotoPicker returns the rules of a PhotoPicker with the given
// max-file-size-kb (0 for the default).
func PhotoPicker(maxFileSizeKB int) Rules {
	return Rules{MaxFileSizeKB: maxFileSizeKB, AllowedMIMETypes: PhotoTypes}
}

// DocumentPicker returns the rules of a DocumentPicker with the given
// max-file-size-kb (0 for the default) and allowed-mime-types (empty for
// Meta's default, DocumentTypes).
func DocumentPicker(maxFileSizeKB int, allowedMIMETypes []string) Rules {
	if len(allowedMIMETypes) == 0 {
		allowedMIMETypes = DocumentTypes
	}
	return Rules{MaxFileSizeKB: maxFileSizeKB, AllowedMIMETypes: allowedMIMETypes}
}

// maxBytes is the largest plaintext r allows.
func (r Rules) maxBytes() (int64, error) {
	kb := r.MaxFileSizeKB
	if kb == 0 {
		kb = DefaultMaxFileSizeKB
	}
	if kb < 1 || kb > DefaultMaxFileSizeKB {
		return 0, fmt.Errorf("media: max-file-size-kb %d is outside Meta's range 1..%d", r.MaxFileSizeKB, DefaultMaxFileSizeKB)
	}
	return int64(kb) * 1024, nil
}

// allows reports whether r allows the sniffed type t.
func (r Rules) allows(t string) bool {
	for _, a := range r.AllowedMIMETypes {
		a, _, _ = strings.Cut(a, ";")
		if strings.EqualFold(strings.TrimSpace(a), t) {
			return true
		}
	}
	return false
}

// decodeArray decodes raw as one JSON array of at most max media objects;
// where says which limit max is, for the error.
func decodeArray[T any](raw []byte, max int, where string) ([]T, error) {
	var vs []T
	d := json.NewDecoder(bytes.NewReader(raw))
	if err := d.Decode(&vs); err != nil {
		return nil, fmt.Errorf("%w: want a JSON array of media objects: %v", ErrMetadata, err)
	}
	if d.More() {
		return nil, fmt.Errorf("%w: data after the array", ErrMetadata)
	}
	if vs == nil {
		return nil, fmt.Errorf("%w: want a JSON array of media objects, got null", ErrMetadata)
	}
	if len(vs) > max {
		return nil, fmt.Errorf("%w: %d files, more than %d%s", ErrMetadata, len(vs), max, where)
	}
	return vs, nil
}
