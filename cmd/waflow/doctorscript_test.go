package main

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/waflow/waflow"
	"github.com/waflow/waflow/sqlite"
)

// Script commands for waflow doctor's scripts:
//
//	httpsserver                  serve /healthz over TLS on 127.0.0.1; sets WAFLOW_PUBLIC_URL
//	                             and writes the server's certificate to ca.pem
//	graph-subscribe ID NAME      subscribe app ID (NAME) to the fake Graph API's WABA
//	inbox-event AGO              add a signed webhook event received AGO ago (a duration) to
//	                             the database of $WAFLOW_DATA_DIR, as the receiver would
func init() {
	scriptCmds["httpsserver"] = func(ts *testscript.TestScript, neg bool, args []string) {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/healthz" {
				http.NotFound(w, r)
				return
			}
			io.WriteString(w, "ok\n")
		}))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		ts.Defer(srv.Close)
		ts.Setenv("WAFLOW_PUBLIC_URL", srv.URL)
		cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		ts.Check(writeScriptFile(ts, "ca.pem", string(cert)))
	}
	scriptCmds["graph-subscribe"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: graph-subscribe ID NAME")
		}
		scriptGraph(ts).SubscribeApp(args[0], args[1])
	}
	scriptCmds["inbox-event"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: inbox-event AGO")
		}
		ago, err := time.ParseDuration(args[0])
		ts.Check(err)
		ctx := context.Background()
		db, err := sqlite.Open(ctx, filepath.Join(ts.Getenv("WAFLOW_DATA_DIR"), "waflow.db"), sqlite.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ts.Check(err)
		defer db.Close()
		_, err = db.AddEvents(ctx, []waflow.InboxEvent{{DedupeKey: "wamid.script-" + args[0], Kind: waflow.EventMessage, Payload: []byte("{}"), ReceivedAt: time.Now().Add(-ago)}})
		ts.Check(err)
	}
}
