package media

import (
	"context"
	"errors"
	"fmt"

	"github.com/waflow/waflow/graph"
)

// CompletedValue is one file of a PhotoPicker or DocumentPicker value in a
// completion's response_json: a Cloud API media id with the file's name,
// announced type and SHA-256 (protocol.md §2.9). Only the id and the hash
// are trusted, the hash because it is checked.
type CompletedValue struct {
	FileName string `json:"file_name"`
	MIMEType string `json:"mime_type"` // as announced; the content decides
	SHA256   string `json:"sha256"`    // base64 SHA-256 of the file
	ID       string `json:"id"`        // the Cloud API media id
}

// MaxCompletedFiles is the most files a completion's response message may
// carry (protocol.md §2.9, §6.7: 10 files, 100 MiB in all).
const MaxCompletedFiles = 10

// ParseCompletedValues reads the value of a PhotoPicker or DocumentPicker
// key in response_json: a JSON array of {file_name, mime_type, sha256, id}
// with an id and a sha256 each, at most MaxCompletedFiles.
func ParseCompletedValues(raw []byte) ([]CompletedValue, error) {
	vs, err := decodeArray[CompletedValue](raw, MaxCompletedFiles, ", the most a response message carries")
	if err != nil {
		return nil, err
	}
	for i, v := range vs {
		switch {
		case v.ID == "":
			return nil, fmt.Errorf("file %d: %w: id is missing", i, ErrMetadata)
		case v.SHA256 == "":
			return nil, fmt.Errorf("file %d: %w: sha256 is missing", i, ErrMetadata)
		}
	}
	return vs, nil
}

// MediaDownloader downloads a Cloud API media file with its SHA-256
// checked; *graph.Client is one.
type MediaDownloader interface {
	DownloadMedia(ctx context.Context, mediaID string, opts graph.MediaDownload) (*graph.Media, error)
}

var _ MediaDownloader = (*graph.Client)(nil)

// FetchCompleted downloads a completion's media file through the Graph API
// (graph.Client.DownloadMedia, which checks its SHA-256 against v.SHA256
// and Meta's metadata) and applies r: size, then the sniffed type. A
// refusal is a *FileError with ID as MediaID: ErrSHA256, ErrTooLarge,
// ErrType, or ErrDownload wrapping the Graph API's error.
func FetchCompleted(ctx context.Context, g MediaDownloader, v CompletedValue, r Rules) (*File, error) {
	limit, err := r.maxBytes()
	if err != nil {
		return nil, err
	}
	if v.ID == "" || v.SHA256 == "" {
		return nil, fileErr(v.ID, ErrMetadata, "a completion's media value needs an id and a sha256")
	}
	m, err := g.DownloadMedia(ctx, v.ID, graph.MediaDownload{SHA256: v.SHA256, MaxBytes: limit})
	switch {
	case errors.Is(err, graph.ErrMediaHash):
		return nil, &FileError{MediaID: v.ID, Reason: ErrSHA256, Err: err}
	case errors.Is(err, graph.ErrMediaTooLarge):
		return nil, &FileError{MediaID: v.ID, Reason: ErrTooLarge, Err: err}
	case errors.Is(err, graph.ErrInvalidRequest) || errors.Is(err, graph.ErrInvalidID):
		return nil, &FileError{MediaID: v.ID, Reason: ErrMetadata, Err: err}
	case err != nil:
		return nil, &FileError{MediaID: v.ID, Reason: ErrDownload, Err: err}
	}
	return check(v.ID, v.FileName, m.Data, limit, r)
}
