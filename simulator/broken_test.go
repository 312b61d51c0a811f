package simulator_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/internal/testkeys"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/simulator"
)

var (
	rawKeyOnce sync.Once
	rawKey     *rsa.PrivateKey
	rawKey2    *rsa.PrivateKey
)

func rawKeys(t *testing.T) (*rsa.PrivateKey, *rsa.PrivateKey) {
	rawKeyOnce.Do(func() {
		rawKey, rawKey2 = testkeys.Key(0), testkeys.Key(1)
	})
	return rawKey, rawKey2
}

var rawSecret = []byte("raw-app-secret")

// reply is what a raw test endpoint answers: a status and a body that is
// sealed for the request unless raw is set.
type reply struct {
	status int
	body   any    // marshalled to JSON and sealed
	raw    []byte // sent as is
	plain  []byte // sealed as is (not JSON)
}

// rawEndpoint is an endpoint written by hand, so it can break every rule:
// it checks the signature, decrypts with key, and answers what answer
// says for the decrypted request. It records the requests.
func rawEndpoint(t *testing.T, key *rsa.PrivateKey, answer func(req map[string]any) reply) (url string, got *[]map[string]any) {
	t.Helper()
	unwrap, err := envelope.NewPrivateKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reqs []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if signature.Verify(body, r.Header.Get(signature.Header), rawSecret) != nil {
			w.WriteHeader(432)
			return
		}
		plain, resp, err := envelope.Open(body, unwrap)
		if err != nil {
			w.WriteHeader(421)
			return
		}
		var req map[string]any
		json.Unmarshal(plain, &req)
		mu.Lock()
		reqs = append(reqs, req)
		mu.Unlock()
		a := answer(req)
		out := a.raw
		switch {
		case a.plain != nil:
			out = resp.Seal(a.plain)
		case a.body != nil:
			b, _ := json.Marshal(a.body)
			out = resp.Seal(b)
		}
		w.WriteHeader(a.status)
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &reqs
}

type obj = map[string]any

var (
	dateData = obj{"min_date": "2026-12-01", "max_date": "2026-12-31", "unavailable_dates": []any{"2026-12-25"}}
	timeData = obj{"date": "2026-12-02", "date_label": "Wednesday", "slots": []any{obj{"id": "10:00", "title": "10:00", "enabled": true}}}
)

func with(m obj, k string, v any) obj {
	out := obj{}
	for kk, vv := range m {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

// TestBrokenEndpoint: an endpoint whose answer to the DETAILS screen breaks
// one rule; the simulator reports that rule, where, and what is wrong, and
// the session stays on DETAILS as the client would.
func TestBrokenEndpoint(t *testing.T) {
	k, _ := rawKeys(t)
	spec := catalogSpec(t, "appointment_booking")
	tests := []struct {
		name    string
		answer  reply
		rule    string
		pointer string
		message string
	}{
		{"unknown screen", reply{200, obj{"screen": "CONFIRM", "data": obj{}}, nil, nil},
			simulator.RuleUnknownScreen, "/screen", `screen "CONFIRM" is not in the flow (screens: DETAILS, DATE, TIME)`},
		{"forbidden transition", reply{200, obj{"screen": "TIME", "data": timeData}, nil, nil},
			simulator.RuleTransition, "/screen", `the routing model does not allow "DETAILS" → "TIME" ("DETAILS" may go to: DATE)`},
		{"missing field", reply{200, obj{"screen": "DATE", "data": with(dateData, "max_date", nil)}, nil, nil},
			simulator.RuleMissingField, "/data/max_date", `screen "DATE" declares "max_date" in its data model, but the data does not have it`},
		{"undeclared field", reply{200, obj{"screen": "DATE", "data": with(dateData, "colour", "red")}, nil, nil},
			simulator.RuleUndeclaredField, "/data/colour", `"colour" is not in the data model of screen "DATE"`},
		{"wrong type", reply{200, obj{"screen": "DATE", "data": with(dateData, "min_date", 20261201)}, nil, nil},
			simulator.RuleWrongType, "/data/min_date", `min_date is number, want string`},
		{"wrong item type", reply{200, obj{"screen": "DATE", "data": with(dateData, "unavailable_dates", []any{"2026-12-24", true})}, nil, nil},
			simulator.RuleWrongType, "/data/unavailable_dates", `unavailable_dates[1] is boolean, want string`},
		{"SUCCESS without flow token", reply{200, obj{"screen": "SUCCESS", "data": obj{"extension_message_response": obj{"params": obj{"booking_ref": "BK-1"}}}}, nil, nil},
			simulator.RuleFlowToken, "/data/extension_message_response/params/flow_token", "params has no flow_token"},
		{"SUCCESS without params", reply{200, obj{"screen": "SUCCESS", "data": obj{}}, nil, nil},
			simulator.RuleFlowToken, "/data/extension_message_response", "needs data.extension_message_response.params"},
		{"SUCCESS with another token", reply{200, obj{"screen": "SUCCESS", "data": obj{"extension_message_response": obj{"params": obj{"flow_token": "someone-else"}}}}, nil, nil},
			simulator.RuleFlowToken, "/data/extension_message_response/params/flow_token", "not the session's flow token"},
		{"error_message not a string", reply{200, obj{"screen": "DATE", "data": with(dateData, "error_message", 42)}, nil, nil},
			simulator.RuleErrorMessage, "/data/error_message", "error_message must be a string, not a number"},
		{"no screen", reply{200, obj{"data": dateData}, nil, nil},
			simulator.RuleSchema, "/screen", `the answer has no "screen" string (it has keys "data")`},
		{"data not an object", reply{200, obj{"screen": "DATE", "data": "x"}, nil, nil},
			simulator.RuleSchema, "/data", `"data" must be an object, not a string`},
		{"not sealed", reply{200, nil, []byte(`{"screen":"DATE"}`), nil},
			simulator.RuleDecrypt, "", "response body is not base64"},
		{"sealed text that is not JSON", reply{200, nil, nil, []byte("OK")},
			simulator.RuleNotJSON, "", `not a JSON object: "OK"`},
		{"HTTP 500", reply{500, nil, []byte("boom"), nil},
			simulator.RuleStatus, "", `answered HTTP 500; the client shows a generic error: "boom"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, reqs := rawEndpoint(t, k, func(req obj) reply {
				if req["action"] == "INIT" {
					return reply{200, obj{"screen": "DETAILS", "data": obj{}}, nil, nil}
				}
				if d, _ := req["data"].(obj); d["error"] != nil {
					return reply{200, obj{"data": obj{"acknowledged": true}}, nil, nil}
				}
				return tt.answer
			})
			c, err := simulator.NewClient(simulator.Config{Flow: spec, URL: url, PublicKey: &k.PublicKey, AppSecret: rawSecret, FlowToken: "tok"})
			if err != nil {
				t.Fatal(err)
			}
			s := simulator.NewSession(c)
			if st, err := s.Start(t.Context()); err != nil || !st.OK() {
				t.Fatalf("Start: %v %v", err, st.Err())
			}
			s.Fill(obj{"name": "Ada", "reason": "Check up"})
			st, err := s.Submit(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Violations) != 1 {
				t.Fatalf("violations = %v, want exactly one %s", st.Violations, tt.rule)
			}
			v := st.Violations[0]
			if v.Rule != tt.rule || v.Pointer != tt.pointer || !strings.Contains(v.Message, tt.message) {
				t.Errorf("violation = %q %q %q\nwant       %q %q containing %q", v.Rule, v.Pointer, v.Message, tt.rule, tt.pointer, tt.message)
			}
			if s.State().Screen != "DETAILS" || s.Done() {
				t.Errorf("after a rejected answer the session is on %q (done %v), want DETAILS", s.State().Screen, s.Done())
			}
			// The client tells the endpoint what it rejected.
			if _, err := s.NotifyViolations(t.Context(), st); err != nil {
				t.Fatal(err)
			}
			last := (*reqs)[len(*reqs)-1]
			d, _ := last["data"].(obj)
			if last["screen"] != "DETAILS" || d["error"] == nil || !strings.Contains(d["error_message"].(string), tt.rule) {
				t.Errorf("error notification = %v", last)
			}
		})
	}
}

// TestBrokenMoves: answers that are fine on their own but wrong for the
// move they answer: INIT must show an entry screen, BACK a screen the user
// came from.
func TestBrokenMoves(t *testing.T) {
	k, _ := rawKeys(t)
	spec := catalogSpec(t, "appointment_booking")
	t.Run("INIT to a later screen", func(t *testing.T) {
		url, _ := rawEndpoint(t, k, func(obj) reply { return reply{200, obj{"screen": "DATE", "data": dateData}, nil, nil} })
		c, _ := simulator.NewClient(simulator.Config{Flow: spec, URL: url, PublicKey: &k.PublicKey, AppSecret: rawSecret, FlowToken: "tok"})
		st, err := simulator.NewSession(c).Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Violations) != 1 || st.Violations[0].Rule != simulator.RuleTransition ||
			!strings.Contains(st.Violations[0].Message, `INIT was answered with "DATE", which is not an entry screen of the routing model (entry: DETAILS)`) {
			t.Errorf("violations = %v", st.Violations)
		}
	})
	t.Run("BACK to where the user did not come from", func(t *testing.T) {
		url, _ := rawEndpoint(t, k, func(req obj) reply {
			switch {
			case req["action"] == "INIT":
				return reply{200, obj{"screen": "DETAILS"}, nil, nil}
			case req["action"] == "BACK":
				return reply{200, obj{"screen": "TIME", "data": timeData}, nil, nil}
			case req["screen"] == "DETAILS":
				return reply{200, obj{"screen": "DATE", "data": dateData}, nil, nil}
			}
			return reply{200, obj{"screen": "TIME", "data": timeData}, nil, nil}
		})
		c, _ := simulator.NewClient(simulator.Config{Flow: spec, URL: url, PublicKey: &k.PublicKey, AppSecret: rawSecret, FlowToken: "tok"})
		s := simulator.NewSession(c)
		sc, err := simulator.ParseScenario([]byte(`{"steps": [
			{"fill": {"name": "Ada", "reason": "Check up"}},
			{"fill": {"date": "$first"}, "expect": {"screen": "TIME"}},
			{"do": "back", "expect": {"violations": ["invalid-screen-transition"]}}
		]}`))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := simulator.Play(t.Context(), s, sc, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := rep.Err(); err != nil {
			t.Fatal(err)
		}
		last := rep.Steps[len(rep.Steps)-1]
		if !strings.Contains(last.Violations[0].Message, `BACK from "TIME" was answered with "TIME", which the user did not come from (history: DETAILS → DATE)`) {
			t.Errorf("violation = %v", last.Violations[0])
		}
	})
}

// TestStatusAnswers: 421 (refresh the key, retry once), 427 (close the
// flow with the endpoint's message), pings and acknowledgements.
func TestStatusAnswers(t *testing.T) {
	k, k2 := rawKeys(t)
	spec := catalogSpec(t, "appointment_booking")
	client := func(t *testing.T, url string, cfg func(*simulator.Config)) *simulator.Session {
		c := simulator.Config{Flow: spec, URL: url, PublicKey: &k.PublicKey, AppSecret: rawSecret, FlowToken: "tok", RetryDelay: time.Millisecond}
		if cfg != nil {
			cfg(&c)
		}
		cl, err := simulator.NewClient(c)
		if err != nil {
			t.Fatal(err)
		}
		return simulator.NewSession(cl)
	}
	details := func(obj) reply { return reply{200, obj{"screen": "DETAILS"}, nil, nil} }

	t.Run("421 then the refreshed key works", func(t *testing.T) {
		url, reqs := rawEndpoint(t, k2, details) // the endpoint rotated to k2
		refreshed := 0
		s := client(t, url, func(c *simulator.Config) {
			c.RefreshKey = func(context.Context) (*rsa.PublicKey, error) { refreshed++; return &k2.PublicKey, nil }
		})
		st, err := s.Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !st.OK() || st.Attempts != 2 || refreshed != 1 || len(*reqs) != 1 || st.To != "DETAILS" {
			t.Errorf("step %+v, refreshed %d times, %d requests decrypted", st, refreshed, len(*reqs))
		}
	})
	t.Run("421 twice", func(t *testing.T) {
		url, _ := rawEndpoint(t, k2, details)
		st, err := client(t, url, nil).Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.Attempts != 2 || len(st.Violations) != 1 || st.Violations[0].Rule != simulator.RuleDecryptionRefused {
			t.Errorf("step %+v", st)
		}
	})
	t.Run("427 with a message", func(t *testing.T) {
		url, _ := rawEndpoint(t, k, func(obj) reply { return reply{427, obj{"error_msg": "Already booked"}, nil, nil} })
		s := client(t, url, nil)
		st, err := s.Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !st.OK() || !st.Closed || st.CloseMessage != "Already booked" || !s.Done() || s.Completion() != nil {
			t.Errorf("step %+v", st)
		}
	})
	t.Run("427 without a body", func(t *testing.T) {
		url, _ := rawEndpoint(t, k, func(obj) reply { return reply{427, nil, nil, nil} })
		st, err := client(t, url, nil).Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !st.OK() || !st.Closed || st.CloseMessage != "" {
			t.Errorf("step %+v", st)
		}
	})
	t.Run("ping", func(t *testing.T) {
		for _, tt := range []struct {
			answer obj
			ok     bool
		}{{obj{"data": obj{"status": "active"}}, true}, {obj{"data": obj{"status": "sleeping"}}, false}, {obj{"status": "active"}, false}} {
			url, reqs := rawEndpoint(t, k, func(obj) reply { return reply{200, tt.answer, nil, nil} })
			st, err := client(t, url, nil).Ping(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if st.OK() != tt.ok || !tt.ok && st.Violations[0].Rule != simulator.RulePing {
				t.Errorf("ping answered %v: violations %v", tt.answer, st.Violations)
			}
			// A ping carries no screen, data or flow token.
			if req := (*reqs)[0]; len(req) != 2 || req["action"] != "ping" || req["version"] != "4.0" {
				t.Errorf("ping request = %v", req)
			}
		}
	})
	t.Run("acknowledgement", func(t *testing.T) {
		url, _ := rawEndpoint(t, k, func(obj) reply { return reply{200, obj{"data": obj{"ok": true}}, nil, nil} })
		st, err := client(t, url, nil).NotifyError(t.Context(), "INVALID_SCREEN_TRANSITION", "x")
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Violations) != 1 || st.Violations[0].Rule != simulator.RuleAck {
			t.Errorf("violations %v", st.Violations)
		}
	})
	t.Run("no server", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		_, err := client(t, srv.URL, nil).Start(t.Context())
		var te *simulator.TransportError
		if err == nil || !errors.As(err, &te) {
			t.Errorf("Start against a closed server = %v, want a *TransportError", err)
		}
	})
}

// TestRequestShape: what the client sends is what WhatsApp sends: the
// flow's data_api_version, the flow token, and for Data API 4.0 on Flow
// JSON 7.3 a flow_token_signature JWT signed with the app secret.
func TestRequestShape(t *testing.T) {
	k, _ := rawKeys(t)
	url, reqs := rawEndpoint(t, k, func(obj) reply { return reply{200, obj{"screen": "DETAILS"}, nil, nil} })
	c, _ := simulator.NewClient(simulator.Config{Flow: catalogSpec(t, "appointment_booking"), URL: url, PublicKey: &k.PublicKey, AppSecret: rawSecret, FlowToken: "tok-9"})
	if _, err := simulator.NewSession(c).Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	req := (*reqs)[0]
	if req["version"] != "4.0" || req["action"] != "INIT" || req["flow_token"] != "tok-9" {
		t.Errorf("INIT = %v", req)
	}
	jwt, _ := req["flow_token_signature"].(string)
	if err := flowtoken.VerifySignatureJWT(jwt, "tok-9", [][]byte{rawSecret}, time.Now()); err != nil {
		t.Errorf("flow_token_signature: %v", err)
	}
}
