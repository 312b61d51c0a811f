package graph_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/waflow/waflow/graph"
)

func TestSubscribedApps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		want       []graph.Application
		wantErr    error
	}{
		{"documented", `{"data":[{"whatsapp_business_api_data":{"link":"https://www.example.com/","name":"waflow","id":"7234002551525653"}}]}`,
			[]graph.Application{{ID: "7234002551525653", Name: "waflow", Link: "https://www.example.com/"}}, nil},
		{"flat", `{"data":[{"id":"1","name":"a"},{"id":"2","name":"b"}]}`,
			[]graph.Application{{ID: "1", Name: "a"}, {ID: "2", Name: "b"}}, nil},
		{"none", `{"data":[]}`, []graph.Application{}, nil},
		{"not JSON", `<html>`, nil, graph.ErrUnexpectedResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, ok(tc.body))
			got, err := s.client.SubscribedApps(t.Context(), "102290129340398")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("apps (-want +got):\n%s", d)
			}
			if r := s.fake.only(t); r.Method != "GET" || r.Path != "/102290129340398/subscribed_apps" {
				t.Errorf("request = %s %s", r.Method, r.Path)
			}
		})
	}
	s := newSetup(t)
	if _, err := s.client.SubscribedApps(t.Context(), "../x"); !errors.Is(err, graph.ErrInvalidID) {
		t.Errorf("bad WABA id: err = %v", err)
	}
}
