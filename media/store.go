package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Store keeps checked media files under content-addressed keys: the
// lowercase hex SHA-256 of the bytes ([Key]). Putting the same bytes twice
// is one file.
type Store interface {
	// Put stores data and returns its key.
	Put(ctx context.Context, data []byte) (key string, err error)
	// Get returns the bytes stored under key: ErrNotFound when there are
	// none, ErrBadKey when key is not a key.
	Get(ctx context.Context, key string) ([]byte, error)
	// Open returns a reader of the bytes stored under key, with the same
	// errors as Get.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Errors of a Store.
var (
	ErrNotFound = errors.New("media: no file under this key")
	ErrBadKey   = errors.New("media: not a media key (64 lowercase hex digits)")
	// ErrCorrupt means stored bytes no longer hash to their key.
	ErrCorrupt = errors.New("media: stored file does not match its key")
)

// Key returns the key of data in a Store: its SHA-256, lowercase hex.
func Key(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func checkKey(key string) error {
	if len(key) != 2*sha256.Size {
		return fmt.Errorf("%w: %d characters", ErrBadKey, len(key))
	}
	for _, c := range []byte(key) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return ErrBadKey
		}
	}
	return nil
}

// DirStore is a Store in a folder of the local file system (the data
// folder): one file per key under a two-character fan-out directory. It
// suits one machine; replicas behind a load balancer do not share it
// (`waflow serve` keeps files in the database, waflow.MediaStore, unless
// WAFLOW_MEDIA_DIR names a folder).
type DirStore struct {
	dir string
}

var _ Store = (*DirStore)(nil)

// NewDirStore returns a DirStore in dir, creating it (mode 0700) if needed.
func NewDirStore(dir string) (*DirStore, error) {
	if dir == "" {
		return nil, errors.New("media: no folder given for the media store")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("media: creating the media folder: %w", err)
	}
	return &DirStore{dir: dir}, nil
}

func (s *DirStore) path(key string) string {
	return filepath.Join(s.dir, key[:2], key)
}

// Put writes data to a temporary file, syncs it and renames it into place,
// so that a reader never sees a partial file. An existing key is kept.
func (s *DirStore) Put(ctx context.Context, data []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	key := Key(data)
	p := s.path(key)
	if _, err := os.Stat(p); err == nil {
		return key, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("media: store: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return "", fmt.Errorf("media: store: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		return "", fmt.Errorf("media: store: %w", err)
	}
	return key, nil
}

// Get reads the file under key and checks that it still hashes to key.
func (s *DirStore) Get(ctx context.Context, key string) ([]byte, error) {
	rc, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("media: reading %s: %w", key, err)
	}
	if Key(b) != key {
		return nil, fmt.Errorf("%w: %s", ErrCorrupt, key)
	}
	return b, nil
}

// Open opens the file under key. The reader does not check the hash; Get
// does.
func (s *DirStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("media: opening %s: %w", key, err)
	}
	return f, nil
}

// Save puts a checked file in s and returns its key. A failure is a
// *FileError with ErrStore, for the component's per-file error-message.
func Save(ctx context.Context, s Store, f *File) (string, error) {
	key, err := s.Put(ctx, f.Data)
	if err != nil {
		return "", &FileError{MediaID: f.MediaID, Reason: ErrStore, Err: err}
	}
	if key != f.SHA256 {
		return "", &FileError{MediaID: f.MediaID, Reason: ErrStore, Detail: "the store's key is not the file's SHA-256"}
	}
	return key, nil
}
