package endpoint_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowtoken"
)

// secretValue is what the user submits; no log line may quote it.
const secretValue = "IBAN-DE89370400440532013000"

// leakyFlow registers, on screen LEAK, a handler that fails in the way
// data.case names, each time putting the submitted value in what it
// returns or panics with.
func leakyFlow(fl *endpoint.Flow) {
	fl.HandleDataExchange("LEAK", func(ctx context.Context, r *endpoint.Request) (*endpoint.Response, error) {
		var in struct {
			Case, Secret string
		}
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		switch in.Case {
		case "errorf":
			return nil, fmt.Errorf("bad %s", in.Secret)
		case "fail":
			return nil, endpoint.Fail("saving the payment details", fmt.Errorf("insert %s: %w", in.Secret, waflow.ErrConflict))
		case "joined":
			return nil, errors.Join(errors.New(in.Secret), context.DeadlineExceeded)
		case "token":
			return nil, &endpoint.TokenError{Msg: "Closed", Err: fmt.Errorf("account %s is closed", in.Secret)}
		case "panic":
			panic("cannot parse " + in.Secret)
		case "panic error":
			panic(fmt.Errorf("cannot parse %s", in.Secret))
		case "json":
			var n struct{ N int }
			return nil, r.Decode(&struct{ Secret *struct{ N int } }{&n})
		}
		return endpoint.Next("LEAK", nil), nil
	})
}

// Issue 12 item 8: handler errors were logged as they are, so a handler
// that put a submitted value in its error put it in the log. The endpoint
// now logs a handler's error by its kind (Fail), the sentinels it wraps and
// its types, never by its text.
func TestHandlerErrorsAreRedacted(t *testing.T) {
	f := newFixtureWithFlow(t, leakyFlow)
	for _, tt := range []struct {
		name   string
		status int
		logged []string // what the log says instead
	}{
		{"errorf", 500, []string{"reason=\"handler error\"", "error_types=*errors.errorString"}},
		{"fail", 500, []string{`error_kind="saving the payment details"`, `error_is="waflow: conflict"`, "*endpoint.HandlerError > *fmt.wrapError > *errors.errorString"}},
		{"joined", 500, []string{`error_is="context deadline exceeded"`, "*errors.joinError > *errors.errorString > context.deadlineExceededError"}},
		{"token", 427, []string{"reason=\"flow token\"", "error_types=\"*endpoint.TokenError > *errors.errorString\""}},
		{"panic", 500, []string{"flow handler panicked", "panic=string", "stack="}},
		{"panic error", 500, []string{"panic=*errors.errorString"}},
		{"json", 500, []string{"*json.UnmarshalTypeError"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.logText())
			r := f.send(t, map[string]any{"version": "3.0", "action": "data_exchange", "screen": "LEAK", "flow_token": f.token,
				"data": map[string]any{"case": tt.name, "secret": secretValue}})
			if r.status != tt.status {
				t.Fatalf("status %d (%s), want %d", r.status, r.raw, tt.status)
			}
			logs := f.logText()[before:]
			if strings.Contains(logs, secretValue) || strings.Contains(logs, "IBAN") {
				t.Errorf("the log quotes the submitted value:\n%s", logs)
			}
			for _, want := range tt.logged {
				if !strings.Contains(logs, want) {
					t.Errorf("the log lacks %q:\n%s", want, logs)
				}
			}
		})
	}
}

// leakyTokens is a validator that quotes the token in its errors.
type leakyTokens struct{ tokenError bool }

func (l leakyTokens) ValidateToken(_ context.Context, _, token string) (flowtoken.Claims, error) {
	if l.tokenError {
		return flowtoken.Claims{}, &endpoint.TokenError{Msg: "No", Err: fmt.Errorf("token %s revoked", token)}
	}
	return flowtoken.Claims{}, fmt.Errorf("lookup of %s: %w", token, waflow.ErrClosed)
}

// A token validator's errors are described the same way: the flow token
// they may quote is a credential.
func TestTokenValidatorErrorsAreRedacted(t *testing.T) {
	for _, tokenError := range []bool{false, true} {
		f := newFixture(t, func(c *endpoint.Config) { c.Tokens = leakyTokens{tokenError} })
		r := f.send(t, map[string]any{"version": "3.0", "action": "INIT", "flow_token": f.token})
		want := map[bool]int{false: 500, true: 427}[tokenError]
		if r.status != want {
			t.Fatalf("status %d, want %d", r.status, want)
		}
		logs := f.logText()
		if strings.Contains(logs, f.token) {
			t.Errorf("the log quotes the flow token:\n%s", logs)
		}
		if !tokenError && !strings.Contains(logs, `error_is="waflow: store closed"`) {
			t.Errorf("the log lacks the sentinel:\n%s", logs)
		}
	}
}
