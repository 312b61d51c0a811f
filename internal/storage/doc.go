// Package storage opens the waflow store a database URL names: a
// postgres:// or postgresql:// URL picks PostgreSQL (package postgres),
// anything else is the path of a SQLite database file (package sqlite).
// It is the one place that knows both drivers, so that cmd/waflow can take
// the database from one setting:
//
//	store, err := storage.Open(ctx, cfg.databaseURL, storage.Options{Logger: log})
//	defer store.Close()
//	log.Info("database", "db", storage.Describe(cfg.databaseURL))
package storage
