package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/waflow/waflow/console"
	"github.com/waflow/waflow/console/consolestore"
	"github.com/waflow/waflow/sqlite"
)

// A console over a store, with one account; signed out, every page sends
// the browser to the sign-in.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "console-example")
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "waflow.db"), sqlite.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	hash, _ := console.HashPassword("a long enough password")
	db.AddUser(ctx, consolestore.User{Name: "ada", PasswordHash: hash})

	c, err := console.New(console.Config{Store: db, Flows: []console.Flow{{Name: "feedback_survey", Title: "Feedback"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/answers", nil))
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	// Output:
	// 303 /console/signin
}
