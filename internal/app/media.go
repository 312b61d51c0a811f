package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/media"
	"github.com/waflow/waflow/registry"
	"github.com/waflow/waflow/webhook"
)

// MediaConfig is where `waflow serve` keeps the files of PhotoPicker and
// DocumentPicker (protocol.md §2.9) and how backends fetch them.
type MediaConfig struct {
	// Dir keeps the files in a folder of this machine (media.DirStore);
	// "" keeps them in the database, which every replica reads.
	Dir string
	// PublicURL is the server's public URL (WAFLOW_PUBLIC_URL): the base
	// of the signed media URLs forwarded backends get; without it they get
	// paths to resolve against the address they know waflow by.
	PublicURL string
	// AllowedHosts overrides the CDN host allow-list (media.Options); nil
	// for WhatsApp's CDN.
	AllowedHosts []string
	// HTTPClient downloads from the CDN (media.Options); nil for the
	// default. Tests give one that trusts their TLS server.
	HTTPClient *http.Client
}

// dbMedia is a media.Store over the database's media_files table.
type dbMedia struct{ s waflow.MediaStore }

func (d dbMedia) Put(ctx context.Context, data []byte) (string, error) {
	key := media.Key(data)
	return key, d.s.PutMedia(ctx, waflow.MediaFile{Key: key, Data: data})
}

func (d dbMedia) Get(ctx context.Context, key string) ([]byte, error) {
	f, err := d.s.GetMedia(ctx, key)
	switch {
	case errors.Is(err, waflow.ErrNotFound):
		return nil, fmt.Errorf("%w: %s", media.ErrNotFound, key)
	case errors.Is(err, waflow.ErrInvalid):
		return nil, fmt.Errorf("%w: %v", media.ErrBadKey, err)
	case err != nil:
		return nil, err
	}
	if media.Key(f.Data) != key {
		return nil, fmt.Errorf("%w: %s", media.ErrCorrupt, key)
	}
	return f.Data, nil
}

func (d dbMedia) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	b, err := d.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// setupMedia builds the media store, the CDN fetcher and the URL signer.
// The signing key is derived from the flow-token secret, which every
// replica shares, so that any of them serves a URL another signed.
func (a *App) setupMedia(cfg Config) error {
	a.mediaStore = dbMedia{a.store}
	if cfg.Media.Dir != "" {
		ds, err := media.NewDirStore(cfg.Media.Dir)
		if err != nil {
			return err
		}
		a.mediaStore = ds
	}
	var err error
	a.mediaFetch, err = media.NewFetcher(media.Options{AllowedHosts: cfg.Media.AllowedHosts, HTTPClient: cfg.Media.HTTPClient, Logger: a.log.With("component", "media")})
	if err != nil {
		return err
	}
	if len(cfg.TokenSecret) < 16 {
		// An HMAC under an empty key would sign URLs anyone can forge.
		return errors.New("media: the token secret (at least 16 bytes) keys the signed media URLs; none is configured")
	}
	m := hmac.New(sha256.New, cfg.TokenSecret)
	m.Write([]byte("waflow media URLs v1"))
	a.mediaURLs, err = media.NewURLSigner(m.Sum(nil), cfg.Media.PublicURL, 0)
	return err
}

// useMedia puts endpoint.ReceiveMedia in front of f's handlers when its
// Flow JSON has a screen that sends PhotoPicker or DocumentPicker files to
// the endpoint.
func (a *App) useMedia(f *endpoint.Flow) error {
	if f.Spec() == nil || !endpoint.HasMedia(f.Spec()) {
		return nil
	}
	mw, err := endpoint.ReceiveMedia(endpoint.MediaConfig{Spec: f.Spec(), Fetcher: a.mediaFetch, Store: a.mediaStore,
		Logger: a.log.With("component", "media", "flow", f.Name()), Observe: a.metrics.MediaFile})
	if err != nil {
		return err
	}
	f.Use(mw)
	return nil
}

// mediaURL signs a URL to a stored file, for forwarded backends.
func (a *App) mediaURL(key string) string { return a.mediaURLs.URL(key) }

// mediaRoutes serves the signed media URLs.
func (a *App) mediaRoutes() map[string]http.Handler {
	return map[string]http.Handler{"GET " + media.URLPath: a.mediaURLs.Handler(a.mediaStore, a.log.With("component", "media"))}
}

// completionMedia wraps a flow's completion handler so that the media
// files of its completions (PhotoPicker or DocumentPicker values of a
// complete action, protocol.md §2.9) are fetched through the Graph API
// with their sha256 checked, stored, and handed to the handler in Values
// as stored-file descriptions (endpoint.StoredFile) in place of the
// Cloud API media ids. A file that can never pass (a sha256 that differs,
// a type or size the component refuses, a malformed value) rejects the
// completion (waflow.ErrRejected, not retried); a download that failed is
// retried. Without Graph API access the values are passed on as they are.
func (a *App) completionMedia(f *registry.Flow, g media.MediaDownloader, next webhook.CompletionHandler) webhook.CompletionHandler {
	if f.Spec == nil {
		return next
	}
	rules := endpoint.CompletionMedia(f.Spec)
	if rules == nil {
		return next
	}
	if g == nil {
		a.log.Warn("completion media are not fetched: no Graph API access token", "flow", f.Name)
		return next
	}
	return func(ctx context.Context, c webhook.Completed) error {
		got, err := media.ReceiveCompleted(ctx, g, a.mediaStore, c.Values, rules)
		var fe *media.FileError
		switch {
		case errors.As(err, &fe) && (errors.Is(err, media.ErrDownload) || errors.Is(err, media.ErrStore) || errors.Is(err, media.ErrTimeout)):
			return fmt.Errorf("completion media: %w", err) // retried
		case err != nil:
			return waflow.Rejectf("completion media refused: %v", err)
		case got == nil:
			return next(ctx, c)
		}
		values := maps.Clone(c.Values)
		for key, files := range got {
			stored := make([]endpoint.StoredFile, len(files))
			for i, f := range files {
				stored[i] = endpoint.StoredFile{MediaID: f.MediaID, Key: f.SHA256, MIMEType: f.MIMEType, Size: len(f.Data), FileName: f.FileName}
			}
			values[key] = stored
		}
		c.Values = values
		return next(ctx, c)
	}
}

// graphDownloader is the Graph API client completion media are fetched
// with: the outbox's, which holds the access token; nil without one.
func graphDownloader(o *OutboxConfig) media.MediaDownloader {
	if o == nil || o.Client == nil {
		return nil
	}
	return o.Client
}
