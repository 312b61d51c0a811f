package migrate_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/waflow/waflow/internal/migrate"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"m/002_outbox.sql": {Data: []byte("CREATE TABLE b;")},
		"m/001_core.sql":   {Data: []byte("CREATE TABLE a;")},
		"m/README.md":      {Data: []byte("not a migration")},
		"m/old/9_x.sql":    {Data: []byte("in a subdirectory: ignored")},
	}
	ms, err := migrate.Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	want := []migrate.Migration{
		{Version: 1, Name: "001_core", SQL: "CREATE TABLE a;"},
		{Version: 2, Name: "002_outbox", SQL: "CREATE TABLE b;"},
	}
	if len(ms) != len(want) {
		t.Fatalf("Load = %+v, want %+v", ms, want)
	}
	for i := range want {
		if ms[i] != want[i] {
			t.Errorf("migration %d = %+v, want %+v", i, ms[i], want[i])
		}
	}
}

func TestLoadRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		files []string
		want  string
	}{
		"no number":       {[]string{"core.sql"}, "name must be NNN_description.sql"},
		"no underscore":   {[]string{"001.sql"}, "name must be NNN_description.sql"},
		"number zero":     {[]string{"000_core.sql"}, "name must be NNN_description.sql"},
		"negative number": {[]string{"-1_core.sql"}, "name must be NNN_description.sql"},
		"gap":             {[]string{"001_a.sql", "003_c.sql"}, "migration 003_c: want number 002"},
		"repeat":          {[]string{"001_a.sql", "001_b.sql"}, "want number 002"},
		"not from 1":      {[]string{"002_b.sql"}, "migration 002_b: want number 001"},
	} {
		fsys := fstest.MapFS{}
		for _, f := range tc.files {
			fsys["m/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
		_, err := migrate.Load(fsys, "m")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Load(%v) = %v, want an error containing %q", name, tc.files, err, tc.want)
		}
	}
	if _, err := migrate.Load(fstest.MapFS{}, "missing"); err == nil {
		t.Error("Load of a missing directory: no error")
	}
}
