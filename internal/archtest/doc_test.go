package archtest

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestExportedNamesDocumented fails naming every exported identifier of the
// library without a doc comment: the package clause, funcs, types, methods
// of exported types, and consts and vars (a comment on their group, above
// them or at the end of their line counts). Struct fields and interface
// methods are left to review. Commands (cmd/...), internal packages, tests
// and other modules (examples/...) are not the library and are not
// checked.
func TestExportedNamesDocumented(t *testing.T) {
	root := filepath.Join("..", "..")
	var missing []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if rel != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" ||
			name == "internal" || name == "cmd") {
			return filepath.SkipDir
		}
		if rel != "." {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		missing = append(missing, undocumented(t, path, rel)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range missing {
		t.Errorf("no doc comment: %s", m)
	}
}

// undocumented returns the undocumented exported names of the package in
// dir (rel to the module's root), as "pkg.Name" or "pkg.Type.Method".
func undocumented(t *testing.T, dir, rel string) []string {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/waflow/waflow/"+rel)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name == "main" {
		return nil
	}
	pkg := rel
	if rel == "." {
		pkg = "waflow"
	}
	var out []string
	if strings.TrimSpace(p.Doc) == "" {
		out = append(out, pkg+" (package doc)")
	}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			if v.Doc != "" {
				continue
			}
			for _, s := range v.Decl.Specs {
				vs := s.(*ast.ValueSpec)
				if vs.Doc != nil || vs.Comment != nil {
					continue
				}
				for _, n := range vs.Names {
					if n.IsExported() {
						out = append(out, pkg+"."+n.Name)
					}
				}
			}
		}
	}
	funcs := func(prefix string, fs []*doc.Func) {
		for _, f := range fs {
			if f.Doc == "" {
				out = append(out, prefix+f.Name)
			}
		}
	}
	values(p.Consts)
	values(p.Vars)
	funcs(pkg+".", p.Funcs)
	for _, ty := range p.Types {
		if ty.Doc == "" {
			out = append(out, pkg+"."+ty.Name)
		}
		values(ty.Consts)
		values(ty.Vars)
		funcs(pkg+".", ty.Funcs)
		funcs(pkg+"."+ty.Name+".", ty.Methods)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
