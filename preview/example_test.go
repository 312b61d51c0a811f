package preview_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/preview"
)

const helloFlow = `{"version": "7.3", "screens": [{"id": "HELLO", "title": "Hello", "terminal": true,
 "data": {"name": {"type": "string", "__example__": "Ada"}},
 "layout": {"type": "SingleColumnLayout", "children": [
  {"type": "TextHeading", "text": "${data.name}"},
  {"type": "Footer", "label": "Done", "on-click-action": {"name": "complete", "payload": {}}}]}}]}`

// The preview is an http.Handler: mount it at /preview/ and open
// /preview/flow/NAME in a browser. Its page drives the JSON API below; a
// static flow opens on its first screen with the __example__ data.
func ExampleNew() {
	spec, problems := flowjson.ValidateSource([]byte(helloFlow))
	if problems.HasErrors() {
		fmt.Println(problems.Err())
		return
	}
	h, err := preview.New(preview.Config{
		Flows:  []preview.Flow{{Name: "hello", Spec: spec, Source: []byte(helloFlow)}},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/preview/", h)

	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/preview/api/flows/hello/start", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	mux.ServeHTTP(rec, req)
	var started struct {
		View struct {
			Screen string `json:"screen"`
		} `json:"view"`
		Static bool `json:"static"`
	}
	json.Unmarshal(rec.Body.Bytes(), &started)
	fmt.Println(rec.Code, started.View.Screen, "static:", started.Static)
	// Output:
	// 200 HELLO static: true
}
