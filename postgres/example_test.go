package postgres_test

import (
	"context"
	"log"
	"os"

	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/webhook"
)

// Open connects, applies the migrations the database lacks, and returns a
// store that several replicas may share: here, the one a webhook worker
// runs on. (Not run: it needs a PostgreSQL server.)
func ExampleOpen() {
	ctx := context.Background()
	db, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), postgres.Options{Schema: "waflow", MaxConns: 16})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	var _ webhook.WorkerStore = db // a DB is a webhook worker's store, as sqlite's is
	if err := db.Ping(ctx); err != nil {
		log.Fatal(err)
	}
}
