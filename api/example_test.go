package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/waflow/waflow/api"
	"github.com/waflow/waflow/registry"
	"github.com/waflow/waflow/sqlite"
)

// An API over a store: a key made with CreateKey reads the flows, a
// request without one is refused, and a route mounted by another package
// sits behind the same keys.
func Example() {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:", sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	defer db.Close()

	a, err := api.New(api.Config{Keys: db, Completions: db, Flows: registry.New(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	a.Mount("GET /api/v1/hello", api.ScopeRead, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `{"hello":"world"}`)
	}))
	key, _, err := api.CreateKey(ctx, db, "reporting", []api.Scope{api.ScopeRead})
	if err != nil {
		panic(err)
	}

	get := func(path, key string) {
		req := httptest.NewRequest("GET", path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		fmt.Print(w.Code, " ", w.Body)
	}
	get("/api/v1/flows", key)
	get("/api/v1/flows", "")
	get("/api/v1/hello", key)
	// Output:
	// 200 {"flows":[]}
	// 401 {"error":{"code":"unauthorized","message":"no API key: send Authorization: Bearer wfk_..."}}
	// 200 {"hello":"world"}
}
