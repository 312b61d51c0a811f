package storage_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waflow/waflow/internal/storage"
	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/storetest"
)

func TestIsPostgres(t *testing.T) {
	for url, want := range map[string]bool{
		"postgres://u@h/db":       true,
		"postgresql://u@h/db":     true,
		"POSTGRES://u@h/db":       true,
		"waflow-data/waflow.db":   false,
		"/var/lib/waflow.db":      false,
		":memory:":                false,
		"postgres.db":             false,
		"./postgres://weird-name": false,
	} {
		if got := storage.IsPostgres(url); got != want {
			t.Errorf("IsPostgres(%q) = %v, want %v", url, got, want)
		}
	}
}

func TestOpenSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := storage.Open(context.Background(), path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*sqlite.DB); !ok {
		t.Fatalf("Open(%q) gave a %T, want *sqlite.DB", path, s)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	s, err := storage.Open(context.Background(), url, storage.Options{PostgresSchema: "waflow_test_storage_open"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, ok := s.(*postgres.DB)
	if !ok {
		t.Fatalf("Open(postgres URL) gave a %T, want *postgres.DB", s)
	}
	defer db.Pool().Exec(context.Background(), "DROP SCHEMA waflow_test_storage_open CASCADE")
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestDescribeHidesPassword(t *testing.T) {
	got := storage.Describe("postgres://waflow:hunter2@db.example:5432/waflow?sslmode=require")
	if strings.Contains(got, "hunter2") || got != "postgres db.example:5432/waflow" {
		t.Fatalf("Describe = %q", got)
	}
}
