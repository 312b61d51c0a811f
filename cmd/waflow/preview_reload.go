package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/waflow/waflow/flowjson"
)

// reloadingPreview serves the preview of the files given to "waflow
// preview" and rebuilds it when one of them changes on disk, so that saving
// the file is enough: the page notices the new Flow JSON and starts again.
// A file that no longer validates keeps the last good version, and the
// problems are logged.
type reloadingPreview struct {
	env   *Env
	files []string
	base  previewDeps // endpoint keys, token issuer, secret, logger
	urlOf func(name string) string
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

// loadPreviewFlows reads the flows of files into d's Specs, Sources and
// URLs. needEndpoint reports whether one of them has a data endpoint.
func loadPreviewFlows(env *Env, files []string, d *previewDeps, urlOf func(string) string) (needEndpoint bool, err error) {
	d.Specs, d.Sources, d.URLs = map[string]*flowjson.Flow{}, map[string][]byte{}, map[string]string{}
	for _, f := range files {
		name, spec, src, err := loadFlow(env, f)
		if err != nil {
			return false, err
		}
		if d.Specs[name] != nil {
			return false, usagef("preview", "two flows named %s: rename one of the files", name)
		}
		d.Specs[name], d.Sources[name] = spec, src
		if spec.DataAPIVersion != "" {
			needEndpoint = true
			d.URLs[name] = urlOf(name)
		}
	}
	return needEndpoint, nil
}

// newReloadingPreview builds the preview of files once; base must already
// hold what flows with a data endpoint need.
func newReloadingPreview(env *Env, files []string, base previewDeps, urlOf func(string) string) (*reloadingPreview, error) {
	p := &reloadingPreview{env: env, files: files, base: base, urlOf: urlOf, log: base.Logger, stamps: map[string]fileStamp{}}
	if err := p.reload(); err != nil {
		return nil, err
	}
	return p, nil
}

// reload reads every file again and rebuilds the preview.
func (p *reloadingPreview) reload() error {
	for _, f := range p.files {
		if st, ok := stampOf(f); ok {
			p.stamps[f] = st
		}
	}
	d := p.base
	needEndpoint, err := loadPreviewFlows(p.env, p.files, &d, p.urlOf)
	if err != nil {
		return err
	}
	if needEndpoint && d.PublicKey == nil {
		return fmt.Errorf("a flow now has a data endpoint: restart waflow preview so that it loads the endpoint's keys")
	}
	h, err := newPreview(d)
	if err != nil {
		return err
	}
	p.h = h
	return nil
}

func (p *reloadingPreview) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
