package main

import (
	"net/http"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// The "waitready URL" script command waits until URL answers 200, for a
// server the script started in the background; it gives up after a minute.
func init() {
	scriptCmds["waitready"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: waitready URL")
		}
		for range 600 {
			resp, err := http.Get(args[0])
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		ts.Fatalf("%s did not answer 200 within a minute", args[0])
	}
}
