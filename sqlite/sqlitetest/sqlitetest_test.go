package sqlitetest_test

import (
	"context"
	"testing"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/sqlite/sqlitetest"
)

// A copy has every migration applied, is empty, and is a database of its
// own: what one test writes, another does not see.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	a := sqlitetest.Open(t, sqlite.Options{})
	applied, known, err := a.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if applied != known || known == 0 {
		t.Fatalf("SchemaVersion = %d applied of %d known, want all", applied, known)
	}
	if _, err := a.AddEvents(ctx, []waflow.InboxEvent{{DedupeKey: "k", Kind: waflow.EventMessage, Payload: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	b := sqlitetest.Open(t, sqlite.Options{})
	if _, err := b.InboxEventByKey(ctx, "k"); err == nil {
		t.Fatal("a second copy holds the first one's event")
	}
	if _, err := a.InboxEventByKey(ctx, "k"); err != nil {
		t.Fatalf("the first copy lost its event: %v", err)
	}
}

// WriteFile refuses to overwrite a database.
func TestWriteFileRefusesExisting(t *testing.T) {
	path := sqlitetest.Path(t)
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() { recover() }()
		sqlitetest.WriteFile(ft, path)
	}()
	if !ft.failed {
		t.Fatal("WriteFile overwrote an existing database")
	}
}

type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed = true
	panic("fatal")
}
func (f *fatalRecorder) Fatal(args ...any) {
	f.failed = true
	panic("fatal")
}
