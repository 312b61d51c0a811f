package waflow_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/waflow/waflow"
)

// A token's state is judged at a given time: an issued token past its
// expiry is expired even before the store's sweep marks it so.
func ExampleFlowToken_StateAt() {
	issued := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := waflow.FlowToken{ID: "x", Flow: "book_table", IssuedAt: issued, ExpiresAt: issued.Add(time.Hour), State: waflow.TokenIssued}
	fmt.Println(tok.StateAt(issued.Add(59 * time.Minute)))
	fmt.Println(tok.StateAt(issued.Add(time.Hour)))
	// Output:
	// issued
	// expired
}

// The second use of a token is a conflict, which callers can test for in
// general or precisely.
func ExampleErrTokenUsed() {
	err := fmt.Errorf("sqlite: MarkTokenUsed: %w", waflow.ErrTokenUsed)
	fmt.Println(errors.Is(err, waflow.ErrTokenUsed), errors.Is(err, waflow.ErrConflict), errors.Is(err, waflow.ErrNotFound))
	// Output: true true false
}
