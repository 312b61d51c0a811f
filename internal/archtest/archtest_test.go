package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The module's path, written $mod in the table.
const mod = "github.com/waflow/waflow"

// Patterns in the table: an import path, $mod for the module's; a trailing
// "/..." matches the path and everything under it; <nonstd> matches any
// package outside the standard library (the module's own included).
const nonstd = "<nonstd>"

// drivers are the database drivers.
var drivers = []string{"modernc.org/sqlite/...", "github.com/jackc/pgx/...", "github.com/lib/pq/...", "github.com/mattn/go-sqlite3/...", "github.com/go-sql-driver/..."}

// storage is everything that stores: the drivers, database/sql, the
// packages built on them and the conformance suite.
var storage = append([]string{"database/sql/...", "$mod/sqlite/...", "$mod/postgres/...", "$mod/internal/storage/...", "$mod/storetest/..."}, drivers...)

// protocol are the packages that speak WhatsApp's protocol: they hold no
// storage and no flow of the catalog.
var protocol = []string{"$mod/keys", "$mod/envelope", "$mod/signature", "$mod/flowtoken", "$mod/flowjson", "$mod/admission", "$mod/graph", "$mod/endpoint", "$mod/media", "$mod/httperr", "$mod/stdwebhooks", "$mod/forward"}

// testSupport are the packages that exist to be imported by tests.
var testSupport = []string{"$mod/storetest", "$mod/flowtest", "$mod/internal/vectors", "$mod/graph/graphtest", "$mod/catalog/catalogstore/catalogtest", "$mod/sqlite/sqlitetest"}

// binaryOnly may read the environment and exit: the binary and the server
// it wires.
var binaryOnly = []string{"$mod/cmd/...", "$mod/internal/server"}

// environment are the calls that read or change the environment or end the
// process.
var environment = []string{"os.Getenv", "os.LookupEnv", "os.Environ", "os.ExpandEnv", "os.Setenv", "os.Unsetenv", "os.Clearenv", "os.Exit",
	"syscall.Getenv", "syscall.Exit", "log.Fatal", "log.Fatalf", "log.Fatalln"}

// rule is one rule of docs/architecture.md. It holds for the packages
// matching pkgs but not except, and forbids the imports matching forbid but
// not allow (directly, or through other packages too when indirect), and
// the calls in calls (in non-test files). Package names written without
// "/..." must exist: a misspelt one fails the test rather than check
// nothing.
type rule struct {
	rule     string
	pkgs     []string
	except   []string
	forbid   []string
	allow    []string
	indirect bool
	calls    []string
}

var rules = []rule{
	{rule: "the root imports only the standard library",
		pkgs: []string{"$mod"}, forbid: []string{nonstd}},
	{rule: "signature, stdwebhooks, flowtoken, flowjson, graph, envelope and httperr import only the standard library",
		pkgs:   []string{"$mod/signature", "$mod/stdwebhooks", "$mod/flowtoken", "$mod/flowjson", "$mod/graph", "$mod/envelope", "$mod/httperr"},
		forbid: []string{nonstd}, allow: []string{"$mod/internal/ossl"}}, // envelope's OpenSSL backend, -tags openssl
	{rule: "admission imports only the standard library and httperr",
		pkgs: []string{"$mod/admission"}, forbid: []string{nonstd}, allow: []string{"$mod/httperr"}},
	{rule: "keys imports only the standard library and youmark/pkcs8",
		pkgs: []string{"$mod/keys"}, forbid: []string{nonstd}, allow: []string{"github.com/youmark/pkcs8"}},
	{rule: "protocol packages never import storage nor the catalog",
		pkgs: protocol, forbid: append([]string{"$mod/catalog/..."}, storage...), indirect: true},
	{rule: "events never imports storage nor the catalog: producers reach it through its Emitter, the store through its interfaces",
		pkgs: []string{"$mod/events"}, forbid: append([]string{"$mod/catalog/..."}, storage...), indirect: true},
	{rule: "only sqlite and postgres import database drivers",
		pkgs: []string{"$mod/..."}, except: []string{"$mod/sqlite/...", "$mod/postgres/..."}, forbid: drivers},
	{rule: "sqlite never imports postgres",
		pkgs: []string{"$mod/sqlite/..."}, forbid: []string{"$mod/postgres/..."}, indirect: true},
	{rule: "postgres never imports sqlite",
		pkgs: []string{"$mod/postgres/..."}, forbid: []string{"$mod/sqlite/..."}, indirect: true},
	{rule: "nothing imports cmd",
		pkgs: []string{"$mod/..."}, except: []string{"$mod/cmd/..."}, forbid: []string{"$mod/cmd/..."}},
	{rule: "the flow core (registry, flowsdir, deploy, simulator) never imports storage nor the catalog: any flow, from any source, fits it",
		pkgs: []string{"$mod/registry", "$mod/flowsdir", "$mod/deploy", "$mod/simulator/..."}, forbid: append([]string{"$mod/catalog/..."}, storage...), indirect: true},
	{rule: "doctor never imports storage nor the catalog: it reads the store, the Graph API and the public URL through its Config",
		pkgs: []string{"$mod/doctor"}, forbid: append([]string{"$mod/catalog/..."}, storage...), indirect: true},
	{rule: "api never imports storage nor the catalog: it reads keys, responses and the outbox through its Config",
		pkgs: []string{"$mod/api"}, forbid: append([]string{"$mod/catalog/..."}, storage...), indirect: true},
	{rule: "reminders never imports storage: it reads and enqueues through its Store interface, so the catalog may use it",
		pkgs: []string{"$mod/reminders"}, forbid: storage, indirect: true},
	{rule: "the console never imports storage: it reads the store through its Config",
		pkgs: []string{"$mod/console/..."}, forbid: storage, indirect: true},
	{rule: "consolestore imports only the standard library, the root and catalogstore",
		pkgs: []string{"$mod/console/consolestore"}, forbid: []string{nonstd}, allow: []string{"$mod", "$mod/catalog/catalogstore"}},
	{rule: "outside _test.go files only storetest, flowtest, graph/graphtest, catalogstore/catalogtest, sqlite/sqlitetest and internal/vectors import testing",
		pkgs: []string{"$mod/..."}, except: testSupport, forbid: []string{"testing/..."}},
	// The simulator is product code that preview, simulate and bench link
	// into the binary.
	{rule: "the binary and what it serves never link testing, httptest nor the test keys, not even through another package",
		pkgs:   []string{"$mod/cmd/...", "$mod/simulator/...", "$mod/preview", "$mod/console/...", "$mod/registry", "$mod/flowsdir", "$mod/deploy", "$mod/internal/server", "$mod/internal/app", "$mod/api"},
		forbid: []string{"testing/...", "net/http/httptest", "$mod/internal/testkeys"}, indirect: true},
	{rule: "only test support and tests use the committed test keys (internal/testkeys)",
		pkgs: []string{"$mod/..."}, except: append([]string{"$mod/internal/testkeys"}, testSupport...), forbid: []string{"$mod/internal/testkeys"}},
	{rule: "library packages never read the environment nor exit (the binary parses its configuration)",
		pkgs: []string{"$mod/..."}, except: append(slices.Clone(binaryOnly), testSupport...), calls: environment},
}

// pkg is what go list says of a package.
type pkg struct {
	ImportPath string
	Dir        string
	Standard   bool
	Imports    []string
	GoFiles    []string
	CgoFiles   []string
}

// list returns the module's packages and all they depend on, by import
// path, with the build tags given.
func list(t *testing.T, root string, tags string) map[string]*pkg {
	t.Helper()
	// The go command on PATH: a test needs no service, and CI has Go.
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	args := []string{"list", "-deps", "-json=ImportPath,Dir,Standard,Imports,GoFiles,CgoFiles"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command(goCmd, append(args, "./...")...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(pkg)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p
		watch(t, p)
	}
	return pkgs
}

// watch stats the module package's Go files and folder so that go test's
// cache sees them: it does not see what the go list subprocess read, and a
// cached pass would hide an import added since.
func watch(t *testing.T, p *pkg) {
	if p.Standard || !strings.HasPrefix(p.ImportPath, mod) {
		return
	}
	if _, err := os.Stat(p.Dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range append(slices.Clone(p.GoFiles), p.CgoFiles...) {
		if _, err := os.Stat(filepath.Join(p.Dir, f)); err != nil {
			t.Fatal(err)
		}
	}
}

func expand(p string) string { return strings.ReplaceAll(p, "$mod", mod) }

// match reports whether path matches pattern (see nonstd).
func match(pattern, path string, pkgs map[string]*pkg) bool {
	pattern = expand(pattern)
	if pattern == nonstd {
		if p := pkgs[path]; p != nil {
			return !p.Standard
		}
		first, _, _ := strings.Cut(path, "/")
		return strings.Contains(first, ".")
	}
	if prefix, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == prefix || strings.HasPrefix(path, prefix+"/")
	}
	return path == pattern
}

func matchAny(patterns []string, path string, pkgs map[string]*pkg) bool {
	for _, p := range patterns {
		if match(p, path, pkgs) {
			return true
		}
	}
	return false
}

// via returns a shortest chain of imports from p to a package matching
// bad, p first, or nil when there is none. Direct imports only
// unless indirect.
func via(p string, bad func(string) bool, indirect bool, pkgs map[string]*pkg) []string {
	prev := map[string]string{p: ""}
	queue := []string{p}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur != p && !indirect {
			continue
		}
		q := pkgs[cur]
		if q == nil {
			continue
		}
		for _, imp := range q.Imports {
			if _, seen := prev[imp]; seen {
				continue
			}
			prev[imp] = cur
			if bad(imp) {
				var chain []string
				for n := imp; n != ""; n = prev[n] {
					chain = append(chain, n)
				}
				slices.Reverse(chain)
				return chain
			}
			queue = append(queue, imp)
		}
	}
	return nil
}

// TestImportRules checks every rule's imports against go list, with the
// default build tags and with -tags openssl.
func TestImportRules(t *testing.T) {
	root := moduleRoot(t)
	reported := map[[2]string]bool{} // package, rule: once, whatever the tags
	for _, tags := range []string{"", "openssl"} {
		pkgs := list(t, root, tags)
		var ours []string
		for path := range pkgs {
			if match("$mod/...", path, pkgs) {
				ours = append(ours, path)
			}
		}
		slices.Sort(ours)
		for _, r := range rules {
			checkNames(t, r, pkgs)
			if len(r.forbid) == 0 {
				continue
			}
			for _, path := range ours {
				if !matchAny(r.pkgs, path, pkgs) || matchAny(r.except, path, pkgs) {
					continue
				}
				bad := func(imp string) bool { return matchAny(r.forbid, imp, pkgs) && !matchAny(r.allow, imp, pkgs) }
				if chain := via(path, bad, r.indirect, pkgs); chain != nil && !reported[[2]string{path, r.rule}] {
					reported[[2]string{path, r.rule}] = true
					how := "imports " + chain[len(chain)-1]
					if len(chain) > 2 {
						how += " (through " + strings.Join(chain[1:len(chain)-1], " -> ") + ")"
					}
					if tags != "" {
						how += " with -tags " + tags
					}
					t.Errorf("package %s %s: breaks the rule %q (docs/architecture.md; internal/archtest)", path, how, r.rule)
				}
			}
		}
	}
}

// checkNames fails on a package named without "/..." that does not exist.
func checkNames(t *testing.T, r rule, pkgs map[string]*pkg) {
	t.Helper()
	for _, p := range slices.Concat(r.pkgs, r.except) {
		if p := expand(p); !strings.HasSuffix(p, "/...") && pkgs[p] == nil {
			t.Errorf("rule %q names package %s, which does not exist: fix the row", r.rule, p)
		}
	}
}

// TestCallRules scans the non-test source of each package a call rule
// holds for.
func TestCallRules(t *testing.T) {
	root := moduleRoot(t)
	pkgs := list(t, root, "")
	fset := token.NewFileSet()
	for _, r := range rules {
		if len(r.calls) == 0 {
			continue
		}
		for path, p := range pkgs {
			if !match("$mod/...", path, pkgs) || !matchAny(r.pkgs, path, pkgs) || matchAny(r.except, path, pkgs) {
				continue
			}
			for _, name := range slices.Concat(p.GoFiles, p.CgoFiles) {
				file := filepath.Join(p.Dir, name)
				f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range calls(f, r.calls) {
					t.Errorf("package %s calls %s at %s: breaks the rule %q (docs/architecture.md; internal/archtest)",
						path, c.name, relative(root, fset.Position(c.pos)), r.rule)
				}
			}
		}
	}
}

type call struct {
	name string
	pos  token.Pos
}

// calls finds the uses of the functions named "pkg.Func" in f, under
// whatever name f imports pkg. A use that is not a call (os.Exit passed as
// a value) counts too.
func calls(f *ast.File, names []string) []call {
	local := map[string]string{} // name in f -> import path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		local[name] = path
	}
	var found []call
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		if path, ok := local[id.Name]; ok {
			if full := path + "." + sel.Sel.Name; slices.Contains(names, full) {
				found = append(found, call{full, sel.Pos()})
			}
		}
		return true
	})
	return found
}

func relative(root string, pos token.Position) string {
	if rel, err := filepath.Rel(root, pos.Filename); err == nil {
		pos.Filename = rel
	}
	return pos.String()
}

// moduleRoot is the directory of go.mod: the test runs in its package's.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	return root
}
