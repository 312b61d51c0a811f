package flowsdir

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/graph"
)

// ManifestSuffix ends the name of a flow's manifest: NAME.waflow.json sits
// next to NAME.json. Not NAME.flow.json: Flow Builder exports are often
// called flow.json, and the manifest must never be taken for Flow JSON.
const ManifestSuffix = ".waflow.json"

// MaxTimeout bounds a backend's timeout: WhatsApp gives up on a data
// endpoint after 10 seconds (protocol.md §3.2), so a longer wait only holds a
// connection for an answer nobody reads.
const MaxTimeout = 10 * time.Second

// maxManifestBytes bounds a manifest file; real ones are a few hundred
// bytes.
const maxManifestBytes = 64 << 10

// TokenPolicy says who judges a forwarded flow's flow tokens.
type TokenPolicy string

// Token policies.
const (
	// TokensWaflow (the default): waflow issues flow tokens and checks
	// them before anything reaches the backend, as for catalog flows.
	TokensWaflow TokenPolicy = "waflow"
	// TokensBackend: waflow forwards whatever token arrives, unchecked,
	// and honours the backend's verdict (for flow messages the business
	// sends from its own systems, with its own tokens).
	TokensBackend TokenPolicy = "backend"
)

// Manifest is what a flow's Flow JSON cannot say, read from
// NAME.waflow.json. A flow without a manifest has the zero Manifest (its
// name apart): title its name, category OTHER, no backend.
type Manifest struct {
	// Name is the flow's name: its Flow JSON's file name without ".json".
	// It is never read from the manifest.
	Name string
	// File is the manifest's path, "" when the flow has none.
	File string

	// Title is for people (listings, the default message body); the name
	// when empty.
	Title string
	// Summary is one line on what the flow does.
	Summary string
	// Categories are the Meta categories the flow is created with; OTHER
	// when empty.
	Categories []graph.Category
	// Backend, when set, answers the flow's data endpoint: waflow
	// forwards each checked request to it. A flow whose Flow JSON has
	// data_api_version needs one.
	Backend *Backend
	// ReplacesCatalog lets the flow take the name of a catalog flow,
	// switching the catalog flow off. Without it a clash stops the start.
	ReplacesCatalog bool
}

// Backend is where a forwarded flow's requests go.
type Backend struct {
	// URL is the backend's http or https URL; waflow POSTs each request
	// to it.
	URL string
	// SecretFile and SecretEnv say where the signing secret (a Standard
	// Webhooks "whsec_..." secret) is: a file (relative paths from the
	// flows folder) or an environment variable's name. Exactly one is
	// set. A manifest never holds the secret itself: manifests are
	// committed, secrets are not.
	SecretFile string
	SecretEnv  string
	// Timeout bounds one backend call, at most MaxTimeout; 0 means the
	// server's request timeout.
	Timeout time.Duration
	// Tokens says who judges flow tokens; TokensWaflow when empty.
	Tokens TokenPolicy

	// Secret is the signing secret, read from SecretFile or SecretEnv by
	// Load when it builds endpoints; never by ParseManifest. Never log it.
	Secret []byte
}

// Manifest problem codes (flowjson's codes are used for Flow JSON).
const (
	// CodeManifestSyntax: the manifest is not valid JSON, or not an object.
	CodeManifestSyntax = "INVALID_MANIFEST_JSON"
	// CodeUnknownKey: a key the manifest does not know (a typo, mostly).
	CodeUnknownKey = "UNKNOWN_MANIFEST_KEY"
	// CodeInvalidValue: a value of the wrong type or outside its range.
	CodeInvalidValue = "INVALID_MANIFEST_VALUE"
	// CodeMissingKey: a key that must be set is not.
	CodeMissingKey = "MISSING_MANIFEST_KEY"
	// CodeDuplicateKey: a key given twice in one object.
	CodeDuplicateKey = flowjson.CodeDuplicateKey
)

// The manifest's keys, in the order documented.
var (
	manifestKeys = []string{"title", "summary", "categories", "backend", "replaces_catalog"}
	backendKeys  = []string{"url", "secret_file", "secret_env", "timeout", "tokens"}
	// secretKeys are keys people write to inline a secret: refused with
	// a message that says where the secret goes instead.
	secretKeys = []string{"secret", "signing_secret", "webhook_secret", "whsec"}
)

// Categories Meta knows (graph's constants).
var knownCategories = []graph.Category{
	graph.CategorySignUp, graph.CategorySignIn, graph.CategoryAppointmentBooking, graph.CategoryLeadGeneration,
	graph.CategoryContactUs, graph.CategoryCustomerSupport, graph.CategorySurvey, graph.CategoryOther,
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseManifest reads a manifest. It reports every problem it finds, with
// its line and column (errors only: a manifest has no warnings); the
// manifest returned is meaningful only when there are none. Name and File
// are left for the caller.
func ParseManifest(src []byte) (*Manifest, flowjson.Problems) {
	p := &manifestParser{}
	if len(src) > maxManifestBytes {
		p.add(flowjson.Pos{}, CodeManifestSyntax, "the manifest is %d bytes; a manifest is at most %d", len(src), maxManifestBytes)
		return nil, p.problems
	}
	root, err := flowjson.ParseValue(src)
	if err != nil {
		pos := flowjson.Pos{}
		msg := err.Error()
		if se, ok := err.(*flowjson.SyntaxError); ok {
			pos, msg = se.Pos, se.Msg
		}
		p.add(pos, CodeManifestSyntax, "%s", msg)
		return nil, p.problems
	}
	m := &Manifest{}
	if root.Kind != flowjson.Object {
		p.add(root.Pos, CodeManifestSyntax, "a manifest is a JSON object, not %s", root.Kind)
		return m, p.problems
	}
	for _, mem := range p.members(root, manifestKeys, "") {
		v := mem.Value
		switch mem.Key {
		case "title":
			m.Title = p.text(v, "title", 200)
		case "summary":
			m.Summary = p.text(v, "summary", 500)
		case "categories":
			m.Categories = p.categories(v)
		case "backend":
			m.Backend = p.backend(v)
		case "replaces_catalog":
			b, ok := v.AsBool()
			if !ok {
				p.add(v.Pos, CodeInvalidValue, "replaces_catalog is true or false, not %s", v.Kind)
			}
			m.ReplacesCatalog = b
		}
	}
	return m, p.problems
}

type manifestParser struct {
	problems flowjson.Problems
}

func (p *manifestParser) add(pos flowjson.Pos, code, format string, args ...any) {
	p.problems = append(p.problems, flowjson.Problem{
		Severity: flowjson.SeverityError, Code: code, Message: fmt.Sprintf(format, args...),
		Line: pos.Line, Column: pos.Col,
	})
}

// members returns obj's members whose keys are known, reporting the
// others (with the nearest known key) and repeated ones.
func (p *manifestParser) members(obj *flowjson.Value, known []string, section string) []*flowjson.Member {
	var out []*flowjson.Member
	seen := map[string]bool{}
	for _, mem := range obj.Members {
		key := mem.Key
		switch {
		case seen[key]:
			p.add(mem.KeyPos, CodeDuplicateKey, "%s is given twice", section+key)
		case slices.Contains(known, key):
			out = append(out, mem)
		case slices.Contains(secretKeys, strings.ToLower(key)):
			p.add(mem.KeyPos, CodeUnknownKey, "%s: a manifest never holds a secret (manifests are committed): put it in a file and name it with %ssecret_file, or in an environment variable named by %ssecret_env",
				section+key, backendPrefix(section), backendPrefix(section))
		default:
			p.add(mem.KeyPos, CodeUnknownKey, "%s", unknownKey(section, key, known))
		}
		seen[key] = true
	}
	return out
}

// backendPrefix is where the secret keys live, seen from section.
func backendPrefix(section string) string {
	if section == "" {
		return "backend."
	}
	return ""
}

// unknownKey names the unknown key and the nearest known one, or lists the
// known keys when none is near.
func unknownKey(section, key string, known []string) string {
	if best, near := flowjson.Nearest(key, known); near {
		return fmt.Sprintf("unknown key %q; did you mean %q?", section+key, section+best)
	}
	return fmt.Sprintf("unknown key %q; the keys are %s", section+key, strings.Join(known, ", "))
}

// text reads a one-line string of at most limit bytes.
func (p *manifestParser) text(v *flowjson.Value, key string, limit int) string {
	s, ok := v.AsString()
	switch {
	case !ok:
		p.add(v.Pos, CodeInvalidValue, "%s is a string, not %s", key, v.Kind)
	case len(s) > limit:
		p.add(v.Pos, CodeInvalidValue, "%s is %d bytes; at most %d", key, len(s), limit)
	case strings.ContainsAny(s, "\r\n"):
		p.add(v.Pos, CodeInvalidValue, "%s is one line", key)
	}
	return s
}

func (p *manifestParser) categories(v *flowjson.Value) []graph.Category {
	if v.Kind != flowjson.Array {
		p.add(v.Pos, CodeInvalidValue, "categories is a list of Meta categories, such as [\"SURVEY\"], not %s", v.Kind)
		return nil
	}
	var out []graph.Category
	for _, item := range v.Items {
		s, ok := item.AsString()
		c := graph.Category(s)
		switch {
		case !ok:
			p.add(item.Pos, CodeInvalidValue, "a category is a string, not %s", item.Kind)
		case !slices.Contains(knownCategories, c):
			names := make([]string, len(knownCategories))
			for i, k := range knownCategories {
				names[i] = string(k)
			}
			p.add(item.Pos, CodeInvalidValue, "unknown category %q; Meta's are %s", s, strings.Join(names, ", "))
		case slices.Contains(out, c):
			p.add(item.Pos, CodeInvalidValue, "category %s is listed twice", s)
		default:
			out = append(out, c)
		}
	}
	return out
}

func (p *manifestParser) backend(v *flowjson.Value) *Backend {
	if v.Kind != flowjson.Object {
		p.add(v.Pos, CodeInvalidValue, "backend is an object, such as {\"url\": \"http://127.0.0.1:3000/flow\", \"secret_env\": \"FLOW_SECRET\"}, not %s", v.Kind)
		return nil
	}
	b := &Backend{}
	for _, mem := range p.members(v, backendKeys, "backend.") {
		w := mem.Value
		switch mem.Key {
		case "url":
			b.URL = p.backendURL(w)
		case "secret_file":
			b.SecretFile = p.text(w, "backend.secret_file", 4096)
			switch {
			case b.SecretFile == "" && w.Kind == flowjson.String:
				p.add(w.Pos, CodeInvalidValue, "backend.secret_file is empty")
			case strings.HasPrefix(b.SecretFile, "whsec_"):
				// Said without the value, and never read as a path (whose
				// error would name it): it is a secret.
				p.add(w.Pos, CodeInvalidValue, "backend.secret_file is the path of a file that holds the secret, not the secret itself; remove the secret from this file")
				b.SecretFile = ""
			}
		case "secret_env":
			s := p.text(w, "backend.secret_env", 256)
			switch {
			case w.Kind != flowjson.String:
			case strings.HasPrefix(s, "whsec_"):
				// Said without the value: it is a secret.
				p.add(w.Pos, CodeInvalidValue, "backend.secret_env is the name of an environment variable that holds the secret, not the secret itself; remove the secret from this file")
			case !envName.MatchString(s):
				p.add(w.Pos, CodeInvalidValue, "backend.secret_env is an environment variable's name (letters, digits and '_', not starting with a digit), such as FLOW_SECRET")
			}
			b.SecretEnv = s
		case "timeout":
			b.Timeout = p.timeout(w)
		case "tokens":
			s, ok := w.AsString()
			b.Tokens = TokenPolicy(s)
			if !ok || b.Tokens != TokensWaflow && b.Tokens != TokensBackend {
				p.add(w.Pos, CodeInvalidValue, "backend.tokens is %q (waflow issues and checks flow tokens, the default) or %q (the backend judges them)", TokensWaflow, TokensBackend)
			}
		}
	}
	if b.Tokens == "" {
		b.Tokens = TokensWaflow
	}
	if v.Get("url") == nil {
		p.add(v.Pos, CodeMissingKey, "backend.url is required: the http or https URL waflow forwards requests to")
	}
	switch file, env := v.Get("secret_file"), v.Get("secret_env"); {
	case file == nil && env == nil:
		p.add(v.Pos, CodeMissingKey, "backend needs its signing secret: secret_file (a file's path) or secret_env (an environment variable's name)")
	case file != nil && env != nil:
		p.add(env.Pos, CodeInvalidValue, "backend has both secret_file and secret_env; keep one")
	}
	return b
}

func (p *manifestParser) backendURL(v *flowjson.Value) string {
	s, ok := v.AsString()
	if !ok {
		p.add(v.Pos, CodeInvalidValue, "backend.url is a string, not %s", v.Kind)
		return ""
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		// url's error repeats the URL, which may carry credentials.
		p.add(v.Pos, CodeInvalidValue, "backend.url does not parse as a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		p.add(v.Pos, CodeInvalidValue, "backend.url must be an http or https URL, not %q", u.Scheme+":")
	case u.Host == "":
		p.add(v.Pos, CodeInvalidValue, "backend.url has no host")
	case u.User != nil:
		p.add(v.Pos, CodeInvalidValue, "backend.url must not hold credentials: waflow signs each request with the secret")
	case u.Fragment != "":
		p.add(v.Pos, CodeInvalidValue, "backend.url must not have a #fragment")
	}
	return s
}

func (p *manifestParser) timeout(v *flowjson.Value) time.Duration {
	s, ok := v.AsString()
	if !ok {
		p.add(v.Pos, CodeInvalidValue, "backend.timeout is a duration string such as \"2s\" or \"1500ms\", not %s", v.Kind)
		return 0
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		p.add(v.Pos, CodeInvalidValue, "backend.timeout %q is not a duration such as \"2s\" or \"1500ms\"", s)
	case d <= 0:
		p.add(v.Pos, CodeInvalidValue, "backend.timeout must be positive")
	case d > MaxTimeout:
		p.add(v.Pos, CodeInvalidValue, "backend.timeout is at most %s: WhatsApp gives up on a data endpoint after 10s", MaxTimeout)
	}
	return d
}
