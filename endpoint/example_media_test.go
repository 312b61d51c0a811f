package endpoint_test

import (
	"context"
	"fmt"
	"os"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/media"
)

// ExampleReceiveMedia receives the files of a DocumentPicker before the
// screen's handler runs: the handler sees them stored, by payload key. A
// refused file never reaches it; the user sees the component's per-file
// error-message.
func ExampleReceiveMedia() {
	spec, problems := flowjson.ValidateSource([]byte(mediaFlowJSON))
	if problems.HasErrors() {
		fmt.Println(problems)
		return
	}
	fetcher, _ := media.NewFetcher(media.Options{}) // WhatsApp's CDN only
	dir, _ := os.MkdirTemp("", "media")
	defer os.RemoveAll(dir)
	store, _ := media.NewDirStore(dir)

	receive, err := endpoint.ReceiveMedia(endpoint.MediaConfig{Spec: spec, Fetcher: fetcher, Store: store})
	if err != nil {
		fmt.Println(err)
		return
	}
	flow := endpoint.NewFlowFromJSON("receipts", spec)
	flow.Use(endpoint.CheckValues(endpoint.ValueCheck{Spec: spec}), receive)
	flow.HandleDataExchange("DOCS", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		for _, f := range r.Media["receipts"] {
			// f.Key is the file's SHA-256, its key in store.
			_ = f.Key
		}
		return endpoint.Next("DONE", map[string]any{"count": len(r.Media["receipts"])}), nil
	})
	fmt.Println(endpoint.HasMedia(spec), endpoint.CompletionMedia(spec) == nil)
	// Output: true true
}
