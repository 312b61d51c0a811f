package preview

import (
	"context"
	"crypto/rsa"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/httperr"
	"github.com/waflow/waflow/simulator"
)

//go:embed static
var static embed.FS

// Flow is one flow the preview shows.
type Flow struct {
	// Name is the flow's name: /preview/flow/NAME.
	Name string
	// Spec is the parsed Flow JSON; Source the file as written.
	Spec   *flowjson.Flow
	Source []byte
	// Endpoint serves the flow's data endpoint in-process; URL, when set
	// instead, is a data endpoint elsewhere. A flow that uses
	// data_exchange needs one of them.
	Endpoint http.Handler
	URL      string
}

// Config is what the preview is built from.
type Config struct {
	// Flows are listed in this order on /preview/.
	Flows []Flow
	// PublicKey and AppSecret are the data endpoint's: the preview
	// encrypts and signs as WhatsApp does. Required when a flow has an
	// endpoint.
	PublicKey *rsa.PublicKey
	AppSecret []byte
	// IssueToken returns a flow token the endpoint accepts, for a new
	// preview session of flow. Required when a flow has an endpoint;
	// without it static flows get the token "preview".
	IssueToken func(ctx context.Context, flow string) (string, error)
	// Secret, when set, is required on every request (pages, scripts, the
	// API): given once in a page's URL as ?key=SECRET, which signs the
	// browser in with a cookie (Secure, HttpOnly, SameSite=Strict; 12
	// hours) and redirects to the URL without the key, or with each
	// request as "Authorization: Bearer SECRET". Anything else is a 401.
	// At least MinSecret bytes. Without it the preview is open to whoever
	// reaches it: only for development, on loopback.
	Secret string
	// Logger receives one line per action (flow, action, screen, status,
	// duration), never values or tokens; slog.Default() when nil.
	Logger *slog.Logger
}

// maxRequest bounds an action request: a session state and a form.
const maxRequest = 1 << 20

type handler struct {
	cfg   Config
	flows map[string]*Flow
	mux   *http.ServeMux
	log   *slog.Logger
	index *template.Template
	page  *template.Template
	gate  *gate
	seals *sealer
}

// New returns the preview's handler, to mount at /preview/.
func New(cfg Config) (http.Handler, error) {
	h := &handler{cfg: cfg, flows: map[string]*Flow{}, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	var err error
	if h.gate, err = newGate(cfg.Secret); err != nil {
		return nil, err
	}
	h.gate.log = h.log
	if h.seals, err = newSealer(cfg.Secret); err != nil {
		return nil, err
	}
	for i := range cfg.Flows {
		f := &cfg.Flows[i]
		switch {
		case f.Name == "" || strings.ContainsAny(f.Name, "/?#"):
			return nil, fmt.Errorf("preview: flow name %q: want a plain name", f.Name)
		case f.Spec == nil:
			return nil, fmt.Errorf("preview: flow %s has no Flow JSON", f.Name)
		case h.flows[f.Name] != nil:
			return nil, fmt.Errorf("preview: two flows named %s", f.Name)
		}
		if f.Endpoint != nil || f.URL != "" {
			if cfg.PublicKey == nil || len(cfg.AppSecret) == 0 || cfg.IssueToken == nil {
				return nil, fmt.Errorf("preview: flow %s has an endpoint: the public key, app secret and token issuer are required", f.Name)
			}
		}
		h.flows[f.Name] = f
	}
	if h.index, err = template.ParseFS(static, "static/index.html"); err != nil {
		return nil, err
	}
	if h.page, err = template.ParseFS(static, "static/flow.html"); err != nil {
		return nil, err
	}
	assets, _ := fs.Sub(static, "static")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /preview/{$}", h.serveIndex)
	mux.HandleFunc("GET /preview/flow/{name}", h.servePage)
	mux.HandleFunc("GET /preview/api/flows/{name}/source", h.serveSource)
	mux.HandleFunc("POST /preview/api/flows/{name}/start", h.serveStart)
	mux.HandleFunc("POST /preview/api/flows/{name}/act", h.serveAct)
	mux.Handle("GET /preview/static/", http.StripPrefix("/preview/static/", http.FileServerFS(assets)))
	h.mux = mux
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if !h.gate.admit(w, r) {
		return
	}
	h.mux.ServeHTTP(w, r)
}

// listing is one flow on the index page.
type listing struct {
	Name, Title, Kind string
	Screens           int
}

func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	var list []listing
	for _, f := range h.cfg.Flows {
		l := listing{Name: f.Name, Screens: len(f.Spec.Screens), Kind: "static"}
		if len(f.Spec.Screens) > 0 {
			l.Title = f.Spec.Screens[0].Title
		}
		if f.Spec.DataAPIVersion != "" {
			l.Kind = "data endpoint"
			if f.Endpoint == nil && f.URL == "" {
				l.Kind = "data endpoint (none configured)"
			}
		}
		list = append(list, l)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := h.index.Execute(w, list); err != nil {
		h.log.Error("preview index", "error", err)
	}
}

func (h *handler) flow(w http.ResponseWriter, r *http.Request) *Flow {
	f := h.flows[r.PathValue("name")]
	if f == nil {
		names := make([]string, 0, len(h.flows))
		for n := range h.flows {
			names = append(names, n)
		}
		sort.Strings(names)
		h.fail(w, r, httperr.New(http.StatusNotFound, fmt.Sprintf("no flow named %q in the preview (flows: %s)", r.PathValue("name"), strings.Join(names, ", ")), nil))
	}
	return f
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	f := h.flow(w, r)
	if f == nil {
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := h.page.Execute(w, f.Name); err != nil {
		h.log.Error("preview page", "error", err)
	}
}

func (h *handler) serveSource(w http.ResponseWriter, r *http.Request) {
	f := h.flow(w, r)
	if f == nil {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(f.Source)
}

// actRequest is what the page sends for an action: the session as it
// keeps it, the values of the shown inputs, and what the user did.
type actRequest struct {
	State simulator.State `json:"state"`
	Token string          `json:"flow_token"`
	// Seal is the token_seal the preview gave with Token: only a token
	// the preview issued is sent to an endpoint.
	Seal string         `json:"token_seal"`
	Form map[string]any `json:"form"`
	// Op is "render" (re-render after a change), "submit" (the Footer),
	// "fire" (action Index), "select" (input Name's on-select-action),
	// "back", or "ping".
	Op    string `json:"op"`
	Index int    `json:"index"`
	Name  string `json:"name"`
}

// actResponse is the session after the action.
type actResponse struct {
	State simulator.State `json:"state"`
	Token string          `json:"flow_token"`
	Seal  string          `json:"token_seal"`
	View  *simulator.View `json:"view"`
	Step  *simulator.Step `json:"step,omitempty"`
	Flow  string          `json:"flow"`
	// Static reports a flow without a data endpoint.
	Static bool `json:"static"`
}

func (h *handler) client(f *Flow, token string) (*simulator.Client, error) {
	return simulator.NewClient(simulator.Config{
		Flow: f.Spec, Name: f.Name, URL: f.URL, Handler: f.Endpoint,
		PublicKey: h.cfg.PublicKey, AppSecret: h.cfg.AppSecret, FlowToken: token,
	})
}

func (h *handler) serveStart(w http.ResponseWriter, r *http.Request) {
	f := h.flow(w, r)
	if f == nil || !h.jsonRequest(w, r) {
		return
	}
	start := time.Now()
	token := "preview"
	if h.cfg.IssueToken != nil {
		var err error
		if token, err = h.cfg.IssueToken(r.Context(), f.Name); err != nil {
			h.fail(w, r, httperr.New(http.StatusInternalServerError, "could not issue a flow token", fmt.Errorf("issuing a flow token for flow %s: %w", f.Name, err)))
			return
		}
	}
	c, err := h.client(f, token)
	if err != nil {
		h.fail(w, r, httperr.New(http.StatusServiceUnavailable, err.Error(), err))
		return
	}
	s := simulator.NewSession(c)
	var st *simulator.Step
	if entries := f.Spec.EntryScreens(); f.Spec.DataAPIVersion == "" && len(entries) > 0 {
		// A message opening a static flow carries the first screen's data
		// (flow_action_payload); the preview uses the __example__ values,
		// as Meta's Flow Builder does.
		st, err = s.StartAt(entries[0], simulator.ExampleData(f.Spec.Screen(entries[0])))
	} else {
		st, err = s.Start(r.Context())
	}
	h.answer(w, r, f, s, token, st, err, "start", start)
}

func (h *handler) serveAct(w http.ResponseWriter, r *http.Request) {
	f := h.flow(w, r)
	if f == nil || !h.jsonRequest(w, r) {
		return
	}
	start := time.Now()
	var req actRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequest))
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.fail(w, r, httperr.New(http.StatusRequestEntityTooLarge, "the request is over 1 MiB", nil))
			return
		}
		// The decoder's error may quote the request: the sender sees it,
		// the log does not.
		h.fail(w, r, httperr.New(http.StatusBadRequest, "the request is not JSON: "+err.Error(), nil))
		return
	}
	if !h.seals.ok(f.Name, req.Token, req.Seal) {
		h.fail(w, r, httperr.New(http.StatusForbidden, "flow_token was not issued by this preview for flow "+f.Name+" (or it restarted without a secret): start the flow again",
			fmt.Errorf("a flow token this preview did not issue, for flow %s", f.Name)))
		return
	}
	c, err := h.client(f, req.Token)
	if err != nil {
		h.fail(w, r, httperr.New(http.StatusServiceUnavailable, err.Error(), err))
		return
	}
	s, err := simulator.Resume(c, req.State)
	if err != nil {
		// The state is the page's, with the user's values in it: not logged.
		h.fail(w, r, httperr.New(http.StatusBadRequest, err.Error(), nil))
		return
	}
	// Apply what the user typed; values of inputs an If has just hidden
	// are dropped, as the phone drops them.
	if !s.Done() && s.Screen() != nil {
		_ = s.Fill(req.Form)
	}
	var st *simulator.Step
	ctx := r.Context()
	switch req.Op {
	case "render":
	case "submit":
		st, err = s.Submit(ctx)
	case "fire":
		st, err = s.Fire(ctx, req.Index)
	case "select":
		st, err = s.Select(ctx, req.Name, s.Form()[req.Name])
	case "back":
		st, err = s.Back(ctx)
	case "ping":
		st, err = s.Ping(ctx)
	default:
		h.fail(w, r, httperr.New(http.StatusBadRequest, fmt.Sprintf("op %q: want render, submit, fire, select, back or ping", req.Op), nil))
		return
	}
	h.answer(w, r, f, s, req.Token, st, err, req.Op, start)
}

// answer writes the session after an action, or the error that stopped it.
func (h *handler) answer(w http.ResponseWriter, r *http.Request, f *Flow, s *simulator.Session, token string, st *simulator.Step, err error, op string, start time.Time) {
	attrs := []slog.Attr{slog.String("flow", f.Name), slog.String("op", op), slog.String("screen", s.State().Screen), slog.Duration("duration", time.Since(start))}
	if st != nil {
		// The endpoint's status; the failure line's "status" is the
		// preview's own answer.
		key := "status"
		if err != nil {
			key = "endpoint_status"
		}
		attrs = append(attrs, slog.String("kind", st.Kind), slog.Int(key, st.Status), slog.Int("violations", len(st.Violations)), slog.Int("blocked", len(st.Blocked)))
	}
	if err != nil {
		var te *simulator.TransportError
		status := http.StatusBadRequest
		if errors.As(err, &te) {
			status = http.StatusBadGateway
		}
		h.fail(w, r, httperr.New(status, err.Error(), err), attrs...)
		return
	}
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "preview action", attrs...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(actResponse{State: s.State(), Token: token, Seal: h.seals.seal(f.Name, token), View: s.View(), Step: st, Flow: f.Name,
		Static: f.Spec.DataAPIVersion == ""})
}

// jsonRequest refuses requests that are not JSON, which also keeps other
// sites' plain HTML forms from driving the preview.
func (h *handler) jsonRequest(w http.ResponseWriter, r *http.Request) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		h.fail(w, r, httperr.New(http.StatusUnsupportedMediaType, "send Content-Type: application/json", nil))
		return false
	}
	return true
}

// fail answers e as the preview's API does, {"error": "..."}, and logs it.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, e *httperr.Error, attrs ...slog.Attr) {
	httperr.Write(w, r, h.log, httperr.JSON, e, attrs...)
}
