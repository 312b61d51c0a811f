// Package migrate reads a storage driver's numbered schema migrations
// (migration/NNN_description.sql, embedded in the driver). Each driver
// applies them with its own SQL (its schema_migrations table, its locking);
// what they share is the naming and ordering rules, which live here.
package migrate

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int    // NNN: 1, 2, 3 ... without gaps
	Name    string // the file name without ".sql", e.g. "001_core"
	SQL     string // the file's content
}

// Load reads the NNN_description.sql files of dir in fsys, sorted by NNN. It
// refuses a name without a positive number before an underscore, and gaps or
// repeated numbers, which would mean a file was misnamed. Other files and
// subdirectories are ignored.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNN_description.sql", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: want number %03d (numbers start at 1, without gaps or repeats)", m.Name, i+1)
		}
	}
	return ms, nil
}
