package main

import (
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/waflow/waflow/graph/graphtest"
)

// The "graph" script command runs a fake Graph API (graphtest.Server) in the test
// process for the script's waflow commands:
//
//	graph start                                   start it; sets WAFLOW_GRAPH_URL
//	graph requests FILE                           write "METHOD PATH" of each request so far to FILE
//	graph reset                                   forget the requests so far
//	graph fail METHOD PATH STATUS CODE [MSG...]   fail the next request matching PATH (a regexp)
//	graph meta-error FLOW LINE COL CODE MSG...    Meta reports this validation error on FLOW's uploads
//	graph key FILE STATUS                         Meta holds the public key in FILE, with STATUS
//	graph check                                   fail if a request had the wrong shape
func init() {
	scriptCmds["graph"] = graphScriptCmd
}

var (
	scriptGraphsMu sync.Mutex
	scriptGraphs   = map[*testscript.TestScript]*graphtest.Server{}
)

func scriptGraph(ts *testscript.TestScript) *graphtest.Server {
	scriptGraphsMu.Lock()
	defer scriptGraphsMu.Unlock()
	f := scriptGraphs[ts]
	if f == nil {
		ts.Fatalf("graph: run \"graph start\" first")
	}
	return f
}

func graphScriptCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: graph start|requests|reset|fail|meta-error|key|check")
	}
	if neg && args[0] != "check" {
		ts.Fatalf("graph %s cannot be negated", args[0])
	}
	if args[0] == "start" {
		f := graphtest.NewServer()
		scriptGraphsMu.Lock()
		scriptGraphs[ts] = f
		scriptGraphsMu.Unlock()
		ts.Defer(func() {
			f.Close()
			scriptGraphsMu.Lock()
			delete(scriptGraphs, ts)
			scriptGraphsMu.Unlock()
		})
		ts.Setenv("WAFLOW_GRAPH_URL", f.URL())
		return
	}
	f := scriptGraph(ts)
	switch args[0] {
	case "requests":
		if len(args) != 2 {
			ts.Fatalf("usage: graph requests FILE")
		}
		var b strings.Builder
		for _, r := range f.Requests() {
			b.WriteString(r + "\n")
		}
		ts.Check(writeScriptFile(ts, args[1], b.String()))
	case "reset":
		f.Reset()
	case "fail":
		if len(args) < 5 {
			ts.Fatalf("usage: graph fail METHOD PATH STATUS CODE [MSG...]")
		}
		status, err := strconv.Atoi(args[3])
		ts.Check(err)
		code, err := strconv.Atoi(args[4])
		ts.Check(err)
		f.Inject(graphtest.Reply{Method: args[1], Path: args[2], Status: status, Code: code, UserMsg: strings.Join(args[5:], " ")})
	case "meta-error":
		if len(args) < 6 {
			ts.Fatalf("usage: graph meta-error FLOW LINE COL CODE MSG...")
		}
		line, err := strconv.Atoi(args[2])
		ts.Check(err)
		col, err := strconv.Atoi(args[3])
		ts.Check(err)
		f.AddMetaError(args[1], map[string]any{
			"error": args[4], "error_type": "FLOW_JSON_ERROR", "message": strings.Join(args[5:], " "),
			"line_start": line, "line_end": line, "column_start": col, "column_end": col + 5,
		})
	case "key":
		if len(args) != 3 {
			ts.Fatalf("usage: graph key FILE STATUS")
		}
		f.SetKey(ts.ReadFile(args[1]), args[2])
	case "check":
		v := f.Violations()
		if (len(v) == 0) == neg {
			ts.Fatalf("requests of the wrong shape: %q", v)
		}
	default:
		ts.Fatalf("graph: unknown subcommand %q", args[0])
	}
}

func writeScriptFile(ts *testscript.TestScript, name, content string) error {
	return os.WriteFile(ts.MkAbs(name), []byte(content), 0o644)
}
