package media_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/waflow/waflow/media"
)

var reasons = []error{media.ErrMetadata, media.ErrEncryptedHash, media.ErrHMAC, media.ErrDecrypt, media.ErrPlaintextHash}

// FuzzDecrypt: whatever the metadata and the file, Decrypt never panics,
// refuses with a FileError of a known reason, and returns only plaintext
// that hashes to plaintext_hash.
func FuzzDecrypt(f *testing.F) {
	cdnFile, meta, _ := realVector(f)
	mb, _ := json.Marshal(meta)
	f.Add(mb, cdnFile)
	f.Add(mb, cdnFile[:len(cdnFile)-1])
	f.Add(mb, []byte{})
	f.Add([]byte(`{"iv":"AAAAAAAAAAAAAAAAAAAAAA=="}`), []byte("0123456789"))
	f.Add([]byte(`not json`), cdnFile)
	f.Fuzz(func(t *testing.T, metaJSON, cdn []byte) {
		var m media.EncryptionMetadata
		if json.Unmarshal(metaJSON, &m) != nil {
			return
		}
		plain, err := media.Decrypt(cdn, m)
		if err != nil {
			var fe *media.FileError
			if !errors.As(err, &fe) || plain != nil {
				t.Fatalf("Decrypt error %v (%T) with %d bytes", err, err, len(plain))
			}
			known := false
			for _, r := range reasons {
				known = known || errors.Is(err, r)
			}
			if !known {
				t.Fatalf("Decrypt error %v has no known reason", err)
			}
			for _, s := range []string{m.EncryptionKey, m.HMACKey} {
				if len(s) >= 8 && strings.Contains(err.Error(), s) {
					t.Fatalf("the error %q shows key material", err)
				}
			}
			return
		}
		want, _ := base64.StdEncoding.DecodeString(m.PlaintextHash)
		got := sha256.Sum256(plain)
		if !bytes.Equal(got[:], want) {
			t.Fatal("Decrypt returned plaintext that does not match plaintext_hash")
		}
	})
}

// FuzzParseValues: any JSON either parses into checked values or is
// refused with ErrMetadata.
func FuzzParseValues(f *testing.F) {
	_, meta, _ := realVector(f)
	mb, _ := json.Marshal(meta)
	f.Add([]byte(`[{"media_id":"a","cdn_url":"https://mmg.whatsapp.net/x","file_name":"a.jpg","encryption_metadata":` + string(mb) + `}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[{"id":"1","sha256":"x"}]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		vs, err := media.ParseValues(raw)
		if err != nil {
			if !errors.Is(err, media.ErrMetadata) || vs != nil {
				t.Fatalf("ParseValues error %v, %d values", err, len(vs))
			}
		} else if len(vs) > media.MaxFiles {
			t.Fatalf("%d values", len(vs))
		} else {
			seen := map[string]bool{}
			for _, v := range vs {
				if v.MediaID == "" || v.CDNURL == "" || seen[v.MediaID] {
					t.Fatalf("accepted %+v", v)
				}
				seen[v.MediaID] = true
			}
		}
		cs, err := media.ParseCompletedValues(raw)
		if err != nil && (!errors.Is(err, media.ErrMetadata) || cs != nil) {
			t.Fatalf("ParseCompletedValues error %v", err)
		}
		for _, c := range cs {
			if c.ID == "" || c.SHA256 == "" {
				t.Fatalf("accepted %+v", c)
			}
		}
	})
}

// FuzzSniff: any content gets one parameter-free type, without panicking
// on a malformed compound file, zip or ftyp box.
func FuzzSniff(f *testing.F) {
	_, _, jpeg := realVector(f)
	f.Add(jpeg)
	f.Add(cfb("WordDocument"))
	f.Add(cfb("Workbook", "Book", "PowerPoint Document")[:520])
	f.Add(ftyp("heic", "mif1"))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Add([]byte("\xff\xfeH\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := media.Sniff(b)
		if got == "" || strings.ContainsAny(got, "; ") || got != media.Sniff(b) {
			t.Fatalf("Sniff = %q", got)
		}
	})
}

// FuzzDecryptPadding reaches past the hashes and the HMAC (the test
// computes them) so the fuzzer drives the CBC and padding code: Decrypt
// must accept exactly the ciphertexts whose decryption has valid PKCS#7
// padding, by a plain reference check, and return the same bytes.
func FuzzDecryptPadding(f *testing.F) {
	f.Add(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 16), bytes.Repeat([]byte{4}, 32))
	f.Add(make([]byte, 32), make([]byte, 32), make([]byte, 16), make([]byte, 16))
	f.Fuzz(func(t *testing.T, key, hkey, iv, ct []byte) {
		if len(key) != 32 || len(hkey) != 32 || len(iv) != 16 || len(ct) > 1<<12 {
			return
		}
		block, _ := aes.NewCipher(key)
		var want []byte
		if len(ct) > 0 && len(ct)%16 == 0 {
			dec := make([]byte, len(ct))
			cipher.NewCBCDecrypter(block, iv).CryptBlocks(dec, ct)
			if p := int(dec[len(dec)-1]); p >= 1 && p <= 16 && bytes.Equal(dec[len(dec)-p:], bytes.Repeat([]byte{byte(p)}, p)) {
				want = dec[:len(dec)-p]
			}
		}
		mac := hmac.New(sha256.New, hkey)
		mac.Write(iv)
		mac.Write(ct)
		cdn := append(bytes.Clone(ct), mac.Sum(nil)[:10]...)
		m := media.EncryptionMetadata{EncryptedHash: sum(cdn), IV: b64(iv), EncryptionKey: b64(key), HMACKey: b64(hkey), PlaintextHash: sum(want)}
		got, err := media.Decrypt(cdn, m)
		switch {
		case want == nil && !errors.Is(err, media.ErrDecrypt):
			t.Fatalf("invalid padding or length accepted: %v", err)
		case want != nil && (err != nil || !bytes.Equal(got, want)):
			t.Fatalf("valid padding refused or changed: %v", err)
		}
	})
}
