package preview_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/preview"
)

// FuzzAct: whatever a page (or anyone) posts to the act endpoint of a
// static flow, the answer is 200 or a 4xx with a JSON error, never a crash
// or a 500.
func FuzzAct(f *testing.F) {
	src, err := catalog.Source("feedback_survey")
	if err != nil {
		f.Fatal(err)
	}
	spec, _ := flowjson.ValidateSource(src)
	h, err := preview.New(preview.Config{Flows: []preview.Flow{{Name: "s", Spec: spec, Source: src}}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"op":"submit","state":{"screen":"RATING","history":["RATING"],"data":{"RATING":{}},"form":{"RATING":{}}},"form":{"rating":"4"}}`,
		`{"op":"back","state":{"screen":"COMMENTS","history":["RATING","COMMENTS"],"data":{},"form":{}}}`,
		`{"op":"fire","index":0,"state":{"screen":"FOLLOW_UP","history":["FOLLOW_UP"]},"form":{"follow_up":true,"contact_method":["x"]}}`,
		`{"op":"select","name":"rating","state":{"screen":"RATING","history":["RATING"]}}`,
		`{"op":"render","state":{"screen":"SEND","closed":true}}`,
		`{"op":"submit","state":{"screen":"RATING","history":["NOPE"]}}`,
		`{"op":"submit","state":{"screen":"SUCCESS"}}`,
		`{"op":"ping"}`, `[]`, `{"form":7}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/preview/api/flows/s/act", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
		if rec.Code != 200 && (rec.Code < 400 || rec.Code >= 500) {
			t.Fatalf("status %d for %s: %s", rec.Code, body, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %s", rec.Body)
		}
	})
}
