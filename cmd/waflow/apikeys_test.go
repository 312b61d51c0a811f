package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	// api METHOD URL KEYFILE|- [BODY]: one request to the HTTP API with
	// the key in KEYFILE (- for none); prints the status and the body.
	scriptCmds["api"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 3 || len(args) > 4 {
			ts.Fatalf("usage: api METHOD URL KEYFILE|- [BODY]")
		}
		var body io.Reader
		if len(args) == 4 {
			body = strings.NewReader(args[3])
		}
		req, err := http.NewRequest(args[0], args[1], body)
		ts.Check(err)
		if args[2] != "-" {
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(ts.ReadFile(args[2])))
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		ts.Check(err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		ts.Check(err)
		fmt.Fprintf(ts.Stdout(), "%d %s", resp.StatusCode, b)
	}
}
