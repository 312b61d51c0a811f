package media

import (
	"errors"
	"fmt"
)

// The reasons a media file is refused. A [*FileError] wraps exactly one of
// them; test with errors.Is.
var (
	// ErrMetadata: the media value or its encryption_metadata is malformed
	// (a missing field, bad base64, a key or hash of the wrong length).
	ErrMetadata = errors.New("malformed media value")
	// ErrURL: the cdn_url is not an absolute https URL.
	ErrURL = errors.New("cdn_url is not an https URL")
	// ErrHost: the cdn_url's host (or a redirect's) is not on the allow-list.
	ErrHost = errors.New("cdn_url host is not allowed")
	// ErrTooLarge: the file is larger than the component's max-file-size-kb.
	ErrTooLarge = errors.New("file too large")
	// ErrDownload: the CDN could not be reached or did not answer 200.
	ErrDownload = errors.New("download failed")
	// ErrTimeout: the download did not finish before the deadline.
	ErrTimeout = errors.New("download deadline exceeded")
	// ErrEncryptedHash: SHA-256 of the downloaded file differs from
	// encrypted_hash.
	ErrEncryptedHash = errors.New("encrypted_hash mismatch")
	// ErrHMAC: the 10-byte HMAC-SHA256 over iv‖ciphertext does not match.
	ErrHMAC = errors.New("HMAC mismatch")
	// ErrDecrypt: the ciphertext is not whole AES blocks or its PKCS#7
	// padding is invalid.
	ErrDecrypt = errors.New("decryption failed")
	// ErrPlaintextHash: SHA-256 of the decrypted file differs from
	// plaintext_hash.
	ErrPlaintextHash = errors.New("plaintext_hash mismatch")
	// ErrSHA256: a completion's media file (downloaded through the Graph
	// API) does not match the sha256 of response_json or Meta's metadata.
	ErrSHA256 = errors.New("sha256 mismatch")
	// ErrType: the file's content is not one of the allowed types.
	ErrType = errors.New("file type not allowed")
	// ErrStore: the checked file could not be stored.
	ErrStore = errors.New("storing the file failed")
)

// FileError is the refusal of one media file: which file (its media_id, the
// key of the component's per-file error-message object, protocol.md §2.9),
// why (one of the Err sentinels, for errors.Is) and what was wrong. It never
// contains key material, hashes from the request, or the cdn_url's query
// (a signed URL's credential).
type FileError struct {
	MediaID string
	Reason  error  // one of the Err sentinels above
	Detail  string // what was wrong, for logs and the operator
	Err     error  // the underlying error, if any (a transport error)
}

// Error says which file was refused, why, and what was wrong.
func (e *FileError) Error() string {
	s := "media"
	if e.MediaID != "" {
		s += " " + e.MediaID
	}
	s += ": " + e.Reason.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the reason and the underlying error.
func (e *FileError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Reason, e.Err}
	}
	return []error{e.Reason}
}

// reasonCodes name the reasons in one word each, for metrics labels.
var reasonCodes = map[error]string{
	ErrMetadata: "metadata", ErrURL: "url", ErrHost: "host", ErrTooLarge: "too_large",
	ErrDownload: "download", ErrTimeout: "timeout", ErrEncryptedHash: "encrypted_hash",
	ErrHMAC: "hmac", ErrDecrypt: "decrypt", ErrPlaintextHash: "plaintext_hash",
	ErrSHA256: "sha256", ErrType: "type", ErrStore: "store",
}

// Code names the reason in one word ("hmac", "too_large", "timeout", ...),
// fit for a metrics label; "other" for a reason outside the Err sentinels.
func (e *FileError) Code() string {
	if c, ok := reasonCodes[e.Reason]; ok {
		return c
	}
	return "other"
}

// UserMessage is a short text fit for the component's per-file
// error-message, shown to the user on the device: it says what to do, not
// what failed inside.
func (e *FileError) UserMessage() string {
	switch e.Reason {
	case ErrTooLarge:
		return "This file is too large."
	case ErrType:
		return "This type of file is not accepted."
	case ErrDownload, ErrTimeout, ErrStore:
		return "This file could not be received. Please try again."
	default:
		return "This file could not be read. Please upload it again."
	}
}

func fileErr(id string, reason error, format string, args ...any) *FileError {
	return &FileError{MediaID: id, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}
