package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/sqlite"
)

// Using a flow token twice: the second caller gets ErrTokenUsed.
func Example() {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:", sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	defer db.Close()

	now := time.Now()
	if err := db.CreateToken(ctx, waflow.FlowToken{ID: "tok-1", Flow: "book_table", ExpiresAt: now.Add(time.Hour)}); err != nil {
		panic(err)
	}
	fmt.Println(db.MarkTokenUsed(ctx, "tok-1", now))
	err = db.MarkTokenUsed(ctx, "tok-1", now)
	fmt.Println(errors.Is(err, waflow.ErrTokenUsed))
	tok, _ := db.Token(ctx, "tok-1")
	fmt.Println(tok.State)
	// Output:
	// <nil>
	// true
	// used
}
