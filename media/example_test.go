package media_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/waflow/waflow/media"
)

// A PhotoPicker file sent to the data endpoint: parse the component's
// value, fetch and check each file, store it, and answer a refused file
// with a per-file error-message. Here a local TLS server plays WhatsApp's
// CDN with the real vector; in production the Fetcher's defaults apply
// (only WhatsApp's CDN hosts).
func ExampleFetcher() {
	vectors := filepath.Join("..", "testdata", "meta-vectors")
	cdnFile, _ := os.ReadFile(filepath.Join(vectors, "media_cdn_file.bin"))
	meta, _ := os.ReadFile(filepath.Join(vectors, "media_encryption_metadata.json"))
	cdn := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(cdnFile) }))
	defer cdn.Close()

	// The "photo" key of a data_exchange payload.
	payload := fmt.Sprintf(`[
	  {"media_id": "790aba14", "cdn_url": %q, "file_name": "IMG_5237.jpg", "encryption_metadata": %s},
	  {"media_id": "0c1d2e3f", "cdn_url": "https://example.com/x.jpg", "file_name": "x.jpg", "encryption_metadata": %s}
	]`, cdn.URL+"/v/t62/IMG_5237", meta, meta)
	values, err := media.ParseValues([]byte(payload))
	if err != nil {
		fmt.Println(err)
		return
	}

	fetcher, _ := media.NewFetcher(media.Options{
		AllowedHosts: []string{"127.0.0.1"}, // the local stand-in for the CDN
		HTTPClient:   cdn.Client(),
		Logger:       slog.New(slog.DiscardHandler),
	})
	dir, _ := os.MkdirTemp("", "media")
	defer os.RemoveAll(dir)
	store, _ := media.NewDirStore(dir)

	errorMessage := map[string]string{} // the component's error-message object
	for _, v := range values {
		file, err := fetcher.Receive(context.Background(), v, media.PhotoPicker(500), store)
		var fe *media.FileError
		if errors.As(err, &fe) {
			fmt.Println("refused:", err)
			errorMessage[fe.MediaID] = fe.UserMessage()
			continue
		}
		fmt.Printf("%s: %s, %d bytes, key %.12s...\n", file.MediaID, file.MIMEType, len(file.Data), file.SHA256)
	}
	b, _ := json.Marshal(errorMessage)
	fmt.Println(string(b))
	// Output:
	// 790aba14: image/jpeg, 435 bytes, key 66f4a0c705e0...
	// refused: media 0c1d2e3f: cdn_url host is not allowed: "example.com" is not on the allow-list [127.0.0.1]
	// {"0c1d2e3f":"This file could not be read. Please upload it again."}
}

// Decrypt alone checks and decrypts a downloaded CDN file.
func ExampleDecrypt() {
	vectors := filepath.Join("..", "testdata", "meta-vectors")
	cdnFile, _ := os.ReadFile(filepath.Join(vectors, "media_cdn_file.bin"))
	raw, _ := os.ReadFile(filepath.Join(vectors, "media_encryption_metadata.json"))
	var meta media.EncryptionMetadata
	json.Unmarshal(raw, &meta)

	plain, err := media.Decrypt(cdnFile, meta)
	fmt.Println(len(plain), media.Sniff(plain), err)

	cdnFile[0] ^= 1 // one flipped bit
	_, err = media.Decrypt(cdnFile, meta)
	fmt.Println(errors.Is(err, media.ErrEncryptedHash), err)
	// Output:
	// 435 image/jpeg <nil>
	// true media: encrypted_hash mismatch: SHA-256 of the 458 downloaded bytes differs from encrypted_hash
}
