package consolestore_test

import (
	"fmt"
	"time"

	"github.com/waflow/waflow/console/consolestore"
)

// Two replicas' counts of one minute add up; Errors counts the refusals
// and the 5xx answers.
func ExampleMinute_Add() {
	start := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	a := consolestore.Minute{Flow: "book_table", Start: start, Requests: 10, Err427: 1}
	b := consolestore.Minute{Flow: "book_table", Start: start, Requests: 5, HandlerFailures: 2, ForwardFailures: 2}
	a.Add(b)
	fmt.Println(a.Requests, a.Errors())
	// Output:
	// 15 3
}
