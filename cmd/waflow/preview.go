package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/waflow/waflow/internal/app"
	"github.com/waflow/waflow/registry"
)

func previewCommand() *Command {
	return &Command{
		Name:    "preview",
		Args:    "FILE...",
		Summary: "try Flow JSON files in the browser, rendered as the WhatsApp client does",
		Help: `
Serves the browser preview of each Flow JSON FILE (or catalog flow name) at
http://LISTEN/preview/: a phone-sized page per flow that renders its screens
as WhatsApp does, checks the form as the phone does, runs navigate and
complete in the page, and sends data_exchange through the simulator (see
"waflow simulate") to the flow's data endpoint, checking each answer as the
client does. The completion payload is shown at the end.

"waflow serve" shows the same preview of the catalog at /preview/. This
command previews files you are writing, without restarting the server: a
flow without a data endpoint needs nothing else; a flow with one is sent to
-url (by default http://ADDR/flows/{flow}, {flow} being the file's name
without .json), with the development keys and secrets of the data folder
and flow tokens recorded in the server's database, as for "waflow simulate".
The files are read once, at start.

With a configured app secret (not the development server's), the preview
signs real requests, so it needs a secret (WAFLOW_PREVIEW_SECRET_FILE or
-preview-secret-file): open http://LISTEN/preview/?key=SECRET once (a
cookie keeps the browser signed in), or send "Authorization: Bearer
SECRET". It warns when -listen reaches beyond loopback.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			var o browserPreviewOptions
			s := newSettings(fs, env)
			o.target.declare(fs, s)
			fs.StringVar(&o.listen, "listen", "127.0.0.1:8081", "address the preview listens on")
			s.Secret(&o.secret, "preview-secret", "WAFLOW_PREVIEW_SECRET", "the secret that signs in to the preview (/preview/?key=SECRET or Authorization: Bearer SECRET); required when a configured app secret signs")
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return usagef("preview", "want at least one Flow JSON FILE")
				}
				if err := s.resolve(); err != nil {
					return err
				}
				return runBrowserPreview(ctx, env, args, &o, nil)
			}
		},
	}
}

type browserPreviewOptions struct {
	target targetConfig
	listen string
	secret string
}

// runBrowserPreview serves the preview of files until ctx is done. When ready is
// not nil, it receives the listen address once the server accepts
// connections (tests).
func runBrowserPreview(ctx context.Context, env *Env, files []string, o *browserPreviewOptions, ready chan<- string) error {
	d := app.PreviewConfig{Logger: slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	o.target.waID = app.PreviewWAID
	d.URL = func(name string) string {
		u := o.target.url
		if u == "" {
			u = "http://" + o.target.addr + "/flows/{flow}"
		}
		return strings.ReplaceAll(u, "{flow}", name)
	}
	flows, err := previewFlows(env, files)
	if err != nil {
		return err
	}
	needEndpoint := usesDataAPI(flows)
	if needEndpoint {
		// A configured app secret is a real one (the development server's
		// is read from its data folder): fail closed, as serve does.
		if o.target.appSecret != "" && o.secret == "" {
			return errors.New("the preview signs with a configured app secret, and without a secret anyone who reaches it could send signed requests with real flow tokens: " +
				"set WAFLOW_PREVIEW_SECRET_FILE (or -preview-secret-file; at least 16 random bytes, e.g. `openssl rand -hex 32`)")
		}
		var err error
		if d.PublicKey, err = o.target.loadPublicKey(); err != nil {
			return err
		}
		if d.AppSecret, err = o.target.loadAppSecret(); err != nil {
			return err
		}
		issue, closeStore, err := o.target.tokenIssuer(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		d.IssueToken = issue
	}
	d.Secret = o.secret
	h, err := app.NewReloadingPreview(files, func() (*registry.Registry, error) {
		flows, err := previewFlows(env, files)
		if err == nil && !needEndpoint && usesDataAPI(flows) {
			return nil, fmt.Errorf("a flow now has a data endpoint: restart waflow preview so that it loads the endpoint's keys")
		}
		return flows, err
	}, d)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
	fmt.Fprintf(env.Stdout, "waflow preview: http://%s/preview/ (%d flows; Ctrl-C stops)\n", ln.Addr(), len(flows.Flows()))
	warnPreviewReach(d.Logger, ln.Addr(), o.secret != "")
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// previewFlows builds the registry of the flows "waflow preview" shows: a
// Flow JSON file each, or a known flow's name, in the order given.
func previewFlows(env *Env, files []string) (*registry.Registry, error) {
	known, err := describeFlows(env)
	if err != nil {
		return nil, err
	}
	flows := registry.New()
	for _, f := range files {
		name, spec, src, err := loadFlow(env, f)
		if err != nil {
			return nil, err
		}
		if flows.Flow(name) != nil {
			return nil, usagef("preview", "two flows named %s: rename one of the files", name)
		}
		origin := registry.OriginFile
		if known.Flow(f) != nil { // loadFlow's order: a known name first
			origin = registry.OriginCatalog
		}
		if err := flows.Add(&registry.Flow{Name: name, Source: src, Spec: spec, Origin: origin}); err != nil {
			return nil, err
		}
	}
	return flows, nil
}

// usesDataAPI reports whether one of the flows talks to a data endpoint.
func usesDataAPI(flows *registry.Registry) bool {
	for _, f := range flows.Flows() {
		if f.Spec.DataAPIVersion != "" {
			return true
		}
	}
	return false
}
