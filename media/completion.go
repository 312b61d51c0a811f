package media

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

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

// ReceiveCompleted receives the media files of one completion: for each key
// of rules present in values (response_json, decoded), it reads the
// value ([ParseCompletedValues]), downloads every file through g
// concurrently ([FetchCompleted]: the sha256 checked, then size and type),
// and, only when every file passed, stores them all in s. It returns the
// stored files by key; nil when values carry none.
//
// A malformed value is an error matching ErrMetadata; a refused file is
// its *FileError (the first, by key and position). Nothing is stored then.
func ReceiveCompleted(ctx context.Context, g MediaDownloader, s Store, values map[string]any, rules map[string]Rules) (map[string][]*File, error) {
	type job struct {
		key string
		v   CompletedValue
	}
	var jobs []job
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		raw, ok := values[key]
		if !ok || raw == nil {
			continue
		}
		b, err := json.Marshal(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrMetadata, key, err)
		}
		vs, err := ParseCompletedValues(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		for _, v := range vs {
			jobs = append(jobs, job{key, v})
		}
	}
	if len(jobs) == 0 {
		return nil, nil
	}
	files := make([]*File, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			files[i], errs[i] = FetchCompleted(ctx, g, j.v, rules[j.key])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // nothing stored: every file passed or none is kept
		}
	}
	out := map[string][]*File{}
	for i, j := range jobs {
		if _, err := Save(ctx, s, files[i]); err != nil {
			return nil, err
		}
		out[j.key] = append(out[j.key], files[i])
	}
	return out, nil
}
