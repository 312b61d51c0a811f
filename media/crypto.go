package media

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// hmacSize is the length of the truncated HMAC-SHA256 at the end of a CDN
// file (protocol.md §2.9: cdn_file = ciphertext ‖ hmac10).
const hmacSize = 10

// keys is an EncryptionMetadata decoded and length-checked.
type keys struct {
	encryptedHash, plaintextHash [sha256.Size]byte
	iv                           [aes.BlockSize]byte
	aesKey                       [32]byte
	hmacKey                      [32]byte
}

// decode checks every field's base64 and length. Errors name the field,
// never its value.
func (m EncryptionMetadata) decode() (*keys, error) {
	k := new(keys)
	for _, f := range []struct {
		name string
		v    string
		dst  []byte
	}{
		{"encrypted_hash", m.EncryptedHash, k.encryptedHash[:]},
		{"iv", m.IV, k.iv[:]},
		{"encryption_key", m.EncryptionKey, k.aesKey[:]},
		{"hmac_key", m.HMACKey, k.hmacKey[:]},
		{"plaintext_hash", m.PlaintextHash, k.plaintextHash[:]},
	} {
		b, err := base64.StdEncoding.Strict().DecodeString(f.v)
		if err != nil {
			return nil, fileErr("", ErrMetadata, "encryption_metadata.%s is not standard base64", f.name)
		}
		if len(b) != len(f.dst) {
			return nil, fileErr("", ErrMetadata, "encryption_metadata.%s has %d bytes, want %d", f.name, len(b), len(f.dst))
		}
		copy(f.dst, b)
	}
	return k, nil
}

// MaxCDNSize is the largest CDN file that can hold a plaintext of at most
// n bytes: PKCS#7 pads to the next whole block (a full block when n is a
// multiple of 16), then the 10-byte HMAC follows.
func MaxCDNSize(n int64) int64 {
	return (n/aes.BlockSize+1)*aes.BlockSize + hmacSize
}

// Decrypt checks and decrypts a file downloaded from WhatsApp's CDN with
// its encryption_metadata (protocol.md §2.9), in this order: SHA-256 of the
// whole file equals encrypted_hash (ErrEncryptedHash); HMAC-SHA256 with
// hmac_key over iv‖ciphertext, truncated to 10 bytes, equals the file's
// last 10 bytes, compared in constant time (ErrHMAC); AES-256-CBC with
// encryption_key and iv, then strict PKCS#7 padding (ErrDecrypt); SHA-256
// of the result equals plaintext_hash (ErrPlaintextHash). Malformed
// metadata is ErrMetadata. Errors are *FileError without a MediaID.
func Decrypt(cdnFile []byte, m EncryptionMetadata) ([]byte, error) {
	k, err := m.decode()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(cdnFile)
	if subtle.ConstantTimeCompare(sum[:], k.encryptedHash[:]) != 1 {
		return nil, fileErr("", ErrEncryptedHash, "SHA-256 of the %d downloaded bytes differs from encrypted_hash", len(cdnFile))
	}
	if len(cdnFile) < hmacSize {
		return nil, fileErr("", ErrHMAC, "the file has %d bytes, fewer than the %d-byte HMAC", len(cdnFile), hmacSize)
	}
	ct, tag := cdnFile[:len(cdnFile)-hmacSize], cdnFile[len(cdnFile)-hmacSize:]
	mac := hmac.New(sha256.New, k.hmacKey[:])
	mac.Write(k.iv[:])
	mac.Write(ct)
	if subtle.ConstantTimeCompare(mac.Sum(nil)[:hmacSize], tag) != 1 {
		return nil, fileErr("", ErrHMAC, "the HMAC-SHA256 of iv and ciphertext does not match the file's last %d bytes", hmacSize)
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, fileErr("", ErrDecrypt, "the ciphertext has %d bytes, not a positive multiple of %d", len(ct), aes.BlockSize)
	}
	block, err := aes.NewCipher(k.aesKey[:])
	if err != nil { // unreachable: the key has 32 bytes
		return nil, fileErr("", ErrDecrypt, "AES: %v", err)
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, k.iv[:]).CryptBlocks(plain, ct)
	n, ok := unpad(plain)
	if !ok {
		return nil, fileErr("", ErrDecrypt, "invalid PKCS#7 padding")
	}
	plain = plain[:n]
	sum = sha256.Sum256(plain)
	if subtle.ConstantTimeCompare(sum[:], k.plaintextHash[:]) != 1 {
		return nil, fileErr("", ErrPlaintextHash, "SHA-256 of the %d decrypted bytes differs from plaintext_hash", len(plain))
	}
	return plain, nil
}

// unpad checks strict PKCS#7 padding on b (whole blocks): the last byte p
// is 1..16 and the last p bytes all equal p. It returns the unpadded
// length. The HMAC has already authenticated the ciphertext, so there is no
// padding oracle to guard against; the check is still branch-free.
func unpad(b []byte) (int, bool) {
	p := int(b[len(b)-1])
	good := subtle.ConstantTimeLessOrEq(1, p) & subtle.ConstantTimeLessOrEq(p, aes.BlockSize)
	for i := 1; i <= aes.BlockSize; i++ {
		inPad := subtle.ConstantTimeLessOrEq(i, p)
		same := subtle.ConstantTimeByteEq(b[len(b)-i], byte(p))
		good &= ^inPad&1 | same
	}
	return len(b) - p, good == 1
}
