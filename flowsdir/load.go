package flowsdir

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/registry"
)

// Problem codes of the folder as a whole (a flow's files against each
// other and against the registry).
const (
	// CodeUnreadable: a file that cannot be read.
	CodeUnreadable = "UNREADABLE_FILE"
	// CodeInvalidName: a Flow JSON file whose name cannot be a flow's.
	CodeInvalidName = "INVALID_FLOW_NAME"
	// CodeOrphanManifest: NAME.waflow.json without NAME.json.
	CodeOrphanManifest = "MANIFEST_WITHOUT_FLOW"
	// CodeMissingBackend: a flow that uses the data endpoint
	// (data_api_version) and has no backend to answer it.
	CodeMissingBackend = "MISSING_BACKEND"
	// CodeBackendWithoutEndpoint: a backend for a flow that never calls
	// its data endpoint.
	CodeBackendWithoutEndpoint = "BACKEND_WITHOUT_ENDPOINT"
	// CodeNameTaken: the flow's name is another flow's (the catalog's).
	CodeNameTaken = "FLOW_NAME_TAKEN"
	// CodeNothingToReplace: replaces_catalog on a flow whose name is no
	// catalog flow's.
	CodeNothingToReplace = "NOTHING_TO_REPLACE"
	// CodeSecret: the backend's signing secret cannot be read.
	CodeSecret = "BACKEND_SECRET_UNAVAILABLE"
	// CodeEndpoint: Options.Endpoint refused the flow.
	CodeEndpoint = "ENDPOINT_NOT_BUILT"
)

// Options configure Load.
type Options struct {
	// Endpoint builds the data-endpoint handlers of a flow whose manifest
	// names a backend (the forwarding handler), from its manifest, with
	// the backend's secret read, and its validated Flow JSON. The handlers
	// must be named m.Name.
	//
	// When nil, Load describes the folder: it checks everything but
	// reads no secret, and flows with a backend get no Endpoint, for the
	// commands that list, deploy or validate flows without serving them.
	Endpoint func(m Manifest, spec *flowjson.Flow) (*endpoint.Flow, error)
	// Getenv looks up backend.secret_env when Endpoint is set (library
	// packages never read the environment themselves); a manifest that
	// names a variable is an error without it.
	Getenv func(key string) string
}

// Problem is one finding in a flows folder: a flowjson.Problem in File.
type Problem struct {
	File string `json:"file"`
	flowjson.Problem
}

// String formats the problem as "file:line:col: CODE: message" (see
// flowjson.Problem.Format).
func (p Problem) String() string { return p.Format(p.File) }

// Problems are the findings of Load, file by file in the folder's order.
type Problems []Problem

// Errors returns the number of errors (the others are warnings).
func (ps Problems) Errors() int {
	n := 0
	for _, p := range ps {
		if p.Severity == flowjson.SeverityError {
			n++
		}
	}
	return n
}

// Warnings returns the number of warnings.
func (ps Problems) Warnings() int { return len(ps) - ps.Errors() }

// WriteText writes one problem a line.
func (ps Problems) WriteText(w io.Writer) error {
	for _, p := range ps {
		if _, err := io.WriteString(w, p.String()+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// Error is a flows folder with errors: none of its flows was added.
type Error struct {
	Dir      string
	Problems Problems // the errors and warnings
}

// Error lists every error, one a line.
func (e *Error) Error() string {
	var b strings.Builder
	n := e.Problems.Errors()
	fmt.Fprintf(&b, "flows folder %s: %d error", e.Dir, n)
	if n != 1 {
		b.WriteByte('s')
	}
	for _, p := range e.Problems {
		if p.Severity == flowjson.SeverityError {
			b.WriteString("\n" + p.String())
		}
	}
	return b.String()
}

// Load reads the flows folder dir and adds its flows to r, in the order of
// their file names. Each flow is NAME.json (Flow JSON), with an optional
// manifest NAME.waflow.json (see Manifest); other files, folders and names
// starting with '.' are left alone.
//
// Every file is validated first. A Flow JSON error, a manifest error, a
// flow that needs an endpoint without a backend, or a name r already holds
// (unless the flow's manifest says replaces_catalog and the holder is a
// catalog flow, which is then removed) fail the load with an *Error naming
// each file, line and column, and r is left as it was. The Problems
// returned list the warnings (such as a frozen Flow JSON version) too.
func Load(r *registry.Registry, dir string, opts Options) (Problems, error) {
	flows, ps, err := read(r, dir, opts)
	if err != nil {
		return nil, err
	}
	if ps.Errors() > 0 {
		return ps, &Error{Dir: dir, Problems: ps}
	}
	for _, f := range flows {
		if f.replace {
			r.Remove(f.flow.Name)
		}
		if err := r.Add(f.flow); err != nil {
			return ps, fmt.Errorf("flows folder %s: %s: %w", dir, f.file, err)
		}
	}
	return ps, nil
}

type loaded struct {
	flow    *registry.Flow
	file    string
	replace bool // takes a catalog flow's place
}

// read validates the folder against r; it adds nothing.
func read(r *registry.Registry, dir string, opts Options) ([]loaded, Problems, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("flows folder: %w", err)
	}
	var names []string             // flows, in file order
	manifests := map[string]bool{} // names of the flows with a manifest
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".json") {
			continue
		}
		if name, ok := strings.CutSuffix(n, ManifestSuffix); ok {
			manifests[name] = true
			continue
		}
		names = append(names, strings.TrimSuffix(n, ".json"))
	}
	var (
		ps  Problems
		out []loaded
	)
	for name := range manifests {
		if !slices.Contains(names, name) {
			ps = append(ps, errorAt(filepath.Join(dir, name+ManifestSuffix), flowjson.Pos{}, CodeOrphanManifest,
				"a manifest without its flow: %s.json is not in the folder", name))
		}
	}
	for _, name := range names {
		l := &flowLoader{dir: dir, name: name, hasManifest: manifests[name], r: r, opts: opts}
		f := l.load()
		ps = append(ps, l.problems...)
		if f != nil {
			out = append(out, *f)
		}
	}
	// In the folder's order, file by file; a file's own problems keep
	// theirs (by position).
	slices.SortStableFunc(ps, func(a, b Problem) int { return strings.Compare(a.File, b.File) })
	return out, ps, nil
}

func errorAt(file string, pos flowjson.Pos, code, format string, args ...any) Problem {
	return Problem{File: file, Problem: flowjson.Problem{
		Severity: flowjson.SeverityError, Code: code, Message: fmt.Sprintf(format, args...), Line: pos.Line, Column: pos.Col,
	}}
}

// flowLoader reads one flow: NAME.json and its manifest.
type flowLoader struct {
	dir, name   string
	hasManifest bool
	r           *registry.Registry
	opts        Options
	problems    Problems
}

func (l *flowLoader) errorf(file string, pos flowjson.Pos, code, format string, args ...any) {
	l.problems = append(l.problems, errorAt(file, pos, code, format, args...))
}

func (l *flowLoader) load() *loaded {
	file := filepath.Join(l.dir, l.name+".json")
	mfile := filepath.Join(l.dir, l.name+ManifestSuffix)
	if err := registry.CheckName(l.name); err != nil {
		l.errorf(file, flowjson.Pos{}, CodeInvalidName, "%q cannot be a flow's name (the file's name is the flow's): use letters, digits, '_', '-' and '.', at most 100, not starting with '.'", l.name)
		return nil
	}
	src, err := os.ReadFile(file)
	if err != nil {
		l.errorf(file, flowjson.Pos{}, CodeUnreadable, "%v", unwrapPath(err))
		return nil
	}
	spec, fps := flowjson.ValidateSource(src)
	for _, p := range fps {
		l.problems = append(l.problems, Problem{File: file, Problem: p})
	}
	m := &Manifest{}
	var mroot *flowjson.Value
	if l.hasManifest {
		msrc, err := os.ReadFile(mfile)
		if err != nil {
			l.errorf(mfile, flowjson.Pos{}, CodeUnreadable, "%v", unwrapPath(err))
			return nil
		}
		var mps flowjson.Problems
		m, mps = ParseManifest(msrc)
		for _, p := range mps {
			l.problems = append(l.problems, Problem{File: mfile, Problem: p})
		}
		if len(mps) > 0 {
			return nil
		}
		mroot, _ = flowjson.ParseValue(msrc) // parsed once already: for positions
		m.File = mfile
	}
	m.Name = l.name
	if fps.HasErrors() {
		return nil
	}

	// The flow against its manifest.
	if spec.DataAPIVersion != "" && m.Backend == nil {
		root, _ := flowjson.ParseValue(src)
		where := mfile
		if !l.hasManifest {
			where += " (a new file)"
		}
		l.errorf(file, posOf(root, "data_api_version"), CodeMissingBackend,
			"flow %s uses a data endpoint (data_api_version %s) and has no backend to answer it: add \"backend\": {\"url\": ..., \"secret_env\": ...} to %s, or remove data_api_version for a static flow",
			l.name, spec.DataAPIVersion, where)
		return nil
	}
	if spec.DataAPIVersion == "" && m.Backend != nil {
		l.errorf(mfile, posOf(mroot, "backend"), CodeBackendWithoutEndpoint,
			"flow %s has a backend but its Flow JSON has no data_api_version, so WhatsApp never calls its endpoint: remove backend, or give %s.json a data_api_version", l.name, l.name)
		return nil
	}

	// The flow against the registry.
	replace := false
	switch prev := l.r.Flow(l.name); {
	case prev != nil && prev.Origin == registry.OriginCatalog && m.ReplacesCatalog:
		replace = true
	case prev != nil && prev.Origin == registry.OriginCatalog:
		l.errorf(file, flowjson.Pos{}, CodeNameTaken,
			"%s is the name of a catalog flow: rename the file, or switch the catalog flow off with \"replaces_catalog\": true in %s", l.name, mfile)
		return nil
	case prev != nil:
		l.errorf(file, flowjson.Pos{}, CodeNameTaken, "a flow named %s is already registered (%s)", l.name, cmp.Or(prev.Origin, "another source"))
		return nil
	case m.ReplacesCatalog:
		l.errorf(mfile, posOf(mroot, "replaces_catalog"), CodeNothingToReplace,
			"replaces_catalog is set but no catalog flow is named %s: remove it", l.name)
		return nil
	}

	f := &registry.Flow{
		Name: l.name, Title: m.Title, Summary: m.Summary, Origin: registry.OriginFolder,
		Source: src, Spec: spec, Categories: m.Categories,
	}
	if m.Backend != nil && l.opts.Endpoint != nil {
		if !l.readSecret(m, mroot) {
			return nil
		}
		ep, err := l.opts.Endpoint(*m, spec)
		if err != nil {
			l.errorf(mfile, posOf(mroot, "backend"), CodeEndpoint, "flow %s: %v", l.name, err)
			return nil
		}
		if ep == nil || ep.Name() != l.name {
			l.errorf(mfile, posOf(mroot, "backend"), CodeEndpoint, "flow %s: the endpoint built is not named %s", l.name, l.name)
			return nil
		}
		f.Endpoint = ep
	}
	return &loaded{flow: f, file: file, replace: replace}
}

// readSecret fills m.Backend.Secret. Errors never include the secret.
func (l *flowLoader) readSecret(m *Manifest, mroot *flowjson.Value) bool {
	b := m.Backend
	pos := posOf(mroot.Get("backend"), "secret_file")
	var secret string
	switch {
	case b.SecretFile != "":
		path := b.SecretFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(l.dir, path)
		}
		raw, err := readSecretFile(path)
		if err != nil {
			l.errorf(m.File, pos, CodeSecret, "backend.secret_file %s: %v", path, unwrapPath(err))
			return false
		}
		secret = strings.TrimSuffix(strings.TrimSuffix(string(raw), "\n"), "\r")
		if secret == "" {
			l.errorf(m.File, pos, CodeSecret, "backend.secret_file %s is empty", path)
			return false
		}
	default:
		pos = posOf(mroot.Get("backend"), "secret_env")
		if l.opts.Getenv != nil {
			secret = l.opts.Getenv(b.SecretEnv)
		}
		if secret == "" {
			l.errorf(m.File, pos, CodeSecret, "backend.secret_env: the environment variable %s is not set", b.SecretEnv)
			return false
		}
	}
	b.Secret = []byte(secret)
	return true
}

// maxSecretFileBytes bounds a secret file: a secret is some 50 bytes, and
// a path to the wrong file (a log, /dev/zero) must not be read whole.
const maxSecretFileBytes = 4096

// readSecretFile reads the secret file path, at most maxSecretFileBytes.
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSecretFileBytes {
		return nil, fmt.Errorf("over %d bytes: not a secret file", maxSecretFileBytes)
	}
	return b, nil
}

// posOf returns the position of obj's member key, or obj's own.
func posOf(obj *flowjson.Value, key string) flowjson.Pos {
	if obj == nil {
		return flowjson.Pos{}
	}
	for _, m := range obj.Members {
		if m.Key == key {
			return m.KeyPos
		}
	}
	return obj.Pos
}

// unwrapPath drops the path from an *fs.PathError: the problem names the
// file already.
func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}
