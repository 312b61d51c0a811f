package events_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waflow/waflow/events"
)

func TestParseFile(t *testing.T) {
	subs, err := events.ParseFile([]byte(`{"subscriptions":[{"id":"crm","url":"https://crm.example.com/h","secret":"` + secret + `","types":["flow.completed","booking.created"]},
		{"id":"all","url":"http://127.0.0.1:9/h","secret":"` + secret + `"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 2 || subs[0].ID != "crm" || len(subs[0].Types) != 2 || !subs[1].Wants(events.MessageFailed) || subs[0].Wants(events.MessageFailed) {
		t.Fatalf("ParseFile = %+v", subs)
	}
	for name, c := range map[string]struct{ file, want string }{
		"not JSON":      {`{`, "events file"},
		"unknown field": {`{"subs":[]}`, "unknown field"},
		"no secret":     {`{"subscriptions":[{"id":"a","url":"https://x.example"}]}`, "whsec_"},
		"bad secret":    {`{"subscriptions":[{"id":"a","url":"https://x.example","secret":"whsec_%%%"}]}`, "not a valid whsec_"},
		"bad url":       {`{"subscriptions":[{"id":"a","url":"x.example","secret":"` + secret + `"}]}`, "absolute http"},
		"unknown type":  {`{"subscriptions":[{"id":"a","url":"https://x.example","secret":"` + secret + `","types":["flow.done"]}]}`, `unknown event type "flow.done"`},
		"twice":         {`{"subscriptions":[{"id":"a","url":"https://x.example","secret":"` + secret + `"},{"id":"a","url":"https://x.example","secret":"` + secret + `"}]}`, "twice"},
		"trailing":      {`{"subscriptions":[]} {}`, "after the JSON"},
	} {
		_, err := events.ParseFile([]byte(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: ParseFile = %v, want an error with %q", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error shows the secret", name)
		}
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte(`{"subscriptions":[{"id":"crm","url":"https://crm.example.com/h","secret":"` + secret + `","types":["*"]}]}`))
	f.Add([]byte(`{"subscriptions":[{"id":"a","url":"ftp://x","secret":"whsec_"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		subs, err := events.ParseFile(data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, s := range subs {
			if s.Validate() != nil || seen[s.ID] {
				t.Fatalf("ParseFile accepted %+v", s)
			}
			seen[s.ID] = true
		}
	})
}

func do(t *testing.T, h http.Handler, method, path, body string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	var out map[string]any
	json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

// The subscriptions API creates (answering the secret once), lists without
// secrets, and deletes; bad input is answered 400 naming what is wrong and
// stores nothing.
func TestHandler(t *testing.T) {
	db := openStore(t)
	h := http.StripPrefix("/v1/subscriptions", events.NewHandler(db, nil))
	code, out := do(t, h, "POST", "/v1/subscriptions/", `{"url":"https://crm.example.com/h","types":["flow.completed"]}`)
	if code != http.StatusCreated || !strings.HasPrefix(out["secret"].(string), "whsec_") || !strings.HasPrefix(out["id"].(string), "sub_") {
		t.Fatalf("create = %d %v", code, out)
	}
	id := out["id"].(string)
	code, out = do(t, h, "POST", "/v1/subscriptions/", `{"id":"ops","url":"https://ops.example.com/h","secret":"`+secret+`"}`)
	if code != http.StatusCreated || out["secret"] != secret {
		t.Fatalf("create with id and secret = %d %v", code, out)
	}
	for name, c := range map[string]struct {
		body string
		code int
		want string
	}{
		"bad url":       {`{"url":"nope"}`, 400, "absolute http"},
		"unknown type":  {`{"url":"https://x.example","types":["x.y"]}`, 400, "unknown event type"},
		"unknown field": {`{"url":"https://x.example","colour":1}`, 400, "unknown field"},
		"not JSON":      {`{`, 400, "not a subscription"},
		"taken id":      {`{"id":"ops","url":"https://x.example"}`, 409, "exists"},
		"bad secret":    {`{"url":"https://x.example","secret":"hunter2"}`, 400, "whsec_"},
	} {
		code, out := do(t, h, "POST", "/v1/subscriptions/", c.body)
		e, _ := out["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if code != c.code || !strings.Contains(msg, c.want) || e["code"] == "" {
			t.Errorf("%s: %d %v, want %d with %q", name, code, out, c.code, c.want)
		}
	}
	code, out = do(t, h, "GET", "/v1/subscriptions/", "")
	list := out["subscriptions"].([]any)
	if code != 200 || len(list) != 2 {
		t.Fatalf("list = %d %v", code, out)
	}
	for _, s := range list {
		if _, has := s.(map[string]any)["secret"]; has {
			t.Fatalf("list shows a secret: %v", s)
		}
	}
	if code, out = do(t, h, "GET", "/v1/subscriptions/"+id, ""); code != 200 || out["url"] != "https://crm.example.com/h" {
		t.Fatalf("get = %d %v", code, out)
	}
	if code, _ = do(t, h, "DELETE", "/v1/subscriptions/"+id, ""); code != http.StatusNoContent {
		t.Fatalf("delete = %d", code)
	}
	if code, _ = do(t, h, "DELETE", "/v1/subscriptions/"+id, ""); code != http.StatusNotFound {
		t.Fatalf("delete again = %d", code)
	}
	if code, _ = do(t, h, "GET", "/v1/subscriptions/"+id, ""); code != http.StatusNotFound {
		t.Fatalf("get deleted = %d", code)
	}
	subs, _ := db.Subscriptions(ctx)
	if len(subs) != 1 || subs[0].ID != "ops" {
		t.Fatalf("stored = %+v", subs)
	}
}
