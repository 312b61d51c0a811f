package media_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/waflow/waflow/media"
)

func TestDirStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := media.NewDirStore(filepath.Join(dir, "media"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	data := []byte("%PDF-1.7 an invoice")
	key, err := s.Put(ctx, data)
	if err != nil || key != media.Key(data) || len(key) != 64 {
		t.Fatalf("Put = %q, %v; want the SHA-256 hex key %s", key, err, media.Key(data))
	}
	if again, err := s.Put(ctx, data); err != nil || again != key {
		t.Errorf("second Put = %q, %v; want the same key", again, err)
	}
	if files := storedFiles(t, dir); len(files) != 1 {
		t.Errorf("stored files %v; want one file for the same bytes put twice", files)
	}
	got, err := s.Get(ctx, key)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("Get = %q, %v", got, err)
	}
	rc, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("Open: %q, %v", got, err)
	}
	// Another DirStore on the same folder (a restart) sees the file.
	s2, err := media.NewDirStore(filepath.Join(dir, "media"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s2.Get(ctx, key); err != nil || !bytes.Equal(got, data) {
		t.Errorf("after reopening: %q, %v", got, err)
	}

	if _, err := s.Get(ctx, media.Key([]byte("never stored"))); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("Get of an absent key: %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"", "../../etc/passwd", key[:63], key + "0", "G" + key[1:], "A" + key[1:], "/" + key[1:]} {
		if _, err := s.Get(ctx, bad); !errors.Is(err, media.ErrBadKey) {
			t.Errorf("Get(%q): %v, want ErrBadKey", bad, err)
		}
		if _, err := s.Open(ctx, bad); !errors.Is(err, media.ErrBadKey) {
			t.Errorf("Open(%q): %v, want ErrBadKey", bad, err)
		}
	}

	// A file altered on disk is detected by Get.
	var path string
	for _, f := range storedFiles(t, dir) {
		path = f
	}
	if err := os.WriteFile(path, []byte("tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, key); !errors.Is(err, media.ErrCorrupt) {
		t.Errorf("Get of a tampered file: %v, want ErrCorrupt", err)
	}

	if _, err := media.NewDirStore(""); err == nil {
		t.Error("NewDirStore(\"\") accepted")
	}
}

// TestSaveStoreFailure: a store that fails turns into a FileError with
// ErrStore for the file.
func TestSaveStoreFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := media.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("x")
	key := media.Key(data)
	// A file where the fan-out folder should be makes Put fail.
	if err := os.WriteFile(filepath.Join(dir, key[:2]), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = media.Save(t.Context(), s, &media.File{MediaID: "m", SHA256: key, Data: data})
	var fe *media.FileError
	if !errors.Is(err, media.ErrStore) || !errors.As(err, &fe) || fe.MediaID != "m" {
		t.Errorf("Save = %v, want a FileError with ErrStore", err)
	}
}
