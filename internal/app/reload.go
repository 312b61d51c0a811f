package app

import (
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/waflow/waflow/registry"
)

// ReloadingPreview serves the preview of Flow JSON files and rebuilds it
// when one of them changes on disk, so that saving the file is enough: the
// page notices the new Flow JSON and starts again. A file that no longer
// loads keeps the last good version, and the problems are logged.
type ReloadingPreview struct {
	files []string
	load  func() (*registry.Registry, error)
	base  PreviewConfig // endpoint keys, token issuer, secret, logger
	log   *slog.Logger

	mu     sync.Mutex
	stamps map[string]fileStamp
	h      http.Handler
}

// fileStamp is what tells that a file changed: its size and modification
// time.
type fileStamp struct {
	size int64
	mod  time.Time
}

func stampOf(path string) (fileStamp, bool) {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return fileStamp{}, false // a catalog flow's name, or a file being replaced
	}
	return fileStamp{fi.Size(), fi.ModTime()}, true
}

// NewReloadingPreview builds the preview once: load returns the registry
// of the flows in files, base the rest of the preview's configuration
// (its Flows is ignored). A change of a file's size or modification time
// calls load again on the next request.
func NewReloadingPreview(files []string, load func() (*registry.Registry, error), base PreviewConfig) (*ReloadingPreview, error) {
	p := &ReloadingPreview{files: files, load: load, base: base, log: base.Logger, stamps: map[string]fileStamp{}}
	if p.log == nil {
		p.log = slog.Default()
	}
	if err := p.reload(); err != nil {
		return nil, err
	}
	return p, nil
}

// reload reads every file again and rebuilds the preview.
func (p *ReloadingPreview) reload() error {
	for _, f := range p.files {
		if st, ok := stampOf(f); ok {
			p.stamps[f] = st
		}
	}
	flows, err := p.load()
	if err != nil {
		return err
	}
	c := p.base
	c.Flows = flows
	h, err := NewPreview(c)
	if err != nil {
		return err
	}
	p.h = h
	return nil
}

// ServeHTTP reloads the changed files, then serves the preview.
func (p *ReloadingPreview) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	changed := false
	for _, f := range p.files {
		if st, ok := stampOf(f); ok && st != p.stamps[f] {
			changed = true
		}
	}
	if changed {
		if err := p.reload(); err != nil {
			p.log.Warn("preview: a changed file was not reloaded; the previous version stays", "error", strings.ReplaceAll(err.Error(), "\n", "; "))
		} else {
			p.log.Warn("preview: reloaded the changed Flow JSON", "files", strings.Join(p.files, " "))
		}
	}
	h := p.h
	p.mu.Unlock()
	h.ServeHTTP(w, r)
}
