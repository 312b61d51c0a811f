package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow"
)

// MediaStore is what the media suite runs on: a driver's waflow.MediaStore
// that can be closed.
type MediaStore interface {
	waflow.MediaStore
	Close() error
}

// RunMedia runs the conformance suite of waflow.MediaStore (the files of
// PhotoPicker and DocumentPicker, package media) on stores made by open.
func RunMedia(t *testing.T, open func(t *testing.T, now func() time.Time) MediaStore) {
	t.Helper()
	RunCases(t, open, []Case[MediaStore]{
		{"Media/RoundTrip", testMediaRoundTrip},
		{"Media/Refused", testMediaRefused},
		{"Media/Concurrent", testMediaConcurrent},
	})
}

func mediaFile(data []byte) waflow.MediaFile {
	s := sha256.Sum256(data)
	return waflow.MediaFile{Key: hex.EncodeToString(s[:]), Data: data}
}

// testMediaRoundTrip: bytes come back exactly (every byte value, an empty
// file, a large one), under their SHA-256, with the store's clock; a
// second put of the same bytes keeps the first row.
func testMediaRoundTrip(t *testing.T, s MediaStore, clock *Clock) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	large := bytes.Repeat([]byte("waflow\x00\xff"), 512<<10) // 4 MiB
	for name, data := range map[string][]byte{"every byte value": all, "empty": {}, "4 MiB": large} {
		f := mediaFile(data)
		WantErr(t, "PutMedia "+name, s.PutMedia(ctx, f), nil)
		got, err := s.GetMedia(ctx, f.Key)
		WantErr(t, "GetMedia "+name, err, nil)
		if got.Key != f.Key || !bytes.Equal(got.Data, data) || got.Data == nil {
			t.Fatalf("GetMedia %s: key %s, %d bytes; want %s, %d bytes", name, got.Key, len(got.Data), f.Key, len(data))
		}
		if !got.CreatedAt.Equal(clock.Now()) {
			t.Fatalf("GetMedia %s: CreatedAt %v, want the store's clock %v", name, got.CreatedAt, clock.Now())
		}
	}
	clock.Advance(time.Hour)
	WantErr(t, "PutMedia again", s.PutMedia(ctx, mediaFile(all)), nil)
	got, err := s.GetMedia(ctx, mediaFile(all).Key)
	WantErr(t, "GetMedia after the second put", err, nil)
	if !got.CreatedAt.Equal(Epoch) {
		t.Fatalf("a second put replaced the row: CreatedAt %v, want %v", got.CreatedAt, Epoch)
	}
	_, err = s.GetMedia(ctx, mediaFile([]byte("never stored")).Key)
	WantErr(t, "GetMedia of an unknown key", err, waflow.ErrNotFound)
	WantErr(t, "Close", s.Close(), nil)
	WantErr(t, "PutMedia after Close", s.PutMedia(ctx, mediaFile([]byte("x"))), waflow.ErrClosed)
	_, err = s.GetMedia(ctx, mediaFile(all).Key)
	WantErr(t, "GetMedia after Close", err, waflow.ErrClosed)
}

// testMediaRefused: a key that is not the data's SHA-256, or not a key,
// is refused and nothing is stored.
func testMediaRefused(t *testing.T, s MediaStore, clock *Clock) {
	f := mediaFile([]byte("real bytes"))
	forged := waflow.MediaFile{Key: f.Key, Data: []byte("other bytes")}
	WantErr(t, "PutMedia with another file's key", s.PutMedia(ctx, forged), waflow.ErrInvalid)
	_, err := s.GetMedia(ctx, f.Key)
	WantErr(t, "GetMedia after a refused put", err, waflow.ErrNotFound)
	upper := waflow.MediaFile{Key: string(bytes.ToUpper([]byte(f.Key))), Data: f.Data}
	WantErr(t, "PutMedia with an uppercase key", s.PutMedia(ctx, upper), waflow.ErrInvalid)
	for _, key := range []string{"", "abc", f.Key + "0", "../" + f.Key[3:], string(bytes.ToUpper([]byte(f.Key)))} {
		_, err := s.GetMedia(ctx, key)
		WantErr(t, "GetMedia("+key+")", err, waflow.ErrInvalid)
	}
	tooLarge := mediaFile(make([]byte, waflow.MaxMediaBytes+1))
	WantErr(t, "PutMedia over MaxMediaBytes", s.PutMedia(ctx, tooLarge), waflow.ErrInvalid)
}

// testMediaConcurrent: replicas storing the same file at once all succeed
// and one row holds it.
func testMediaConcurrent(t *testing.T, s MediaStore, clock *Clock) {
	f := mediaFile([]byte("the same photo, sent to two replicas"))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.PutMedia(ctx, f)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		WantErr(t, "concurrent PutMedia", err, nil)
	}
	got, err := s.GetMedia(ctx, f.Key)
	WantErr(t, "GetMedia", err, nil)
	Diff(t, "stored file", f.Data, got.Data)
}
