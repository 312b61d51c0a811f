package preview_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/preview"
)

const secret = "a-preview-secret-of-32-bytes-xyz"

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// routes are one request of each preview route.
var routes = []struct{ method, path, body string }{
	{"GET", "/preview/", ""},
	{"GET", "/preview/flow/expense_entry", ""},
	{"GET", "/preview/api/flows/expense_entry/source", ""},
	{"GET", "/preview/static/app.js", ""},
	{"GET", "/preview/static/style.css", ""},
	{"POST", "/preview/api/flows/expense_entry/start", "{}"},
	{"POST", "/preview/api/flows/feedback_survey/act", `{"op":"render"}`},
	{"GET", "/preview/flow/nope", ""},
}

func send(t *testing.T, c *http.Client, method, u, body string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if method == "POST" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// TestSecretRequired: with a secret, every route answers 401 without it,
// with a wrong one in the header, the URL or a cookie, and serves with it.
func TestSecretRequired(t *testing.T) {
	srv, _ := newPreviewWith(t, secret)
	refusals := []struct {
		name   string
		query  string
		header http.Header
	}{
		{"nothing", "", nil},
		{"wrong bearer", "", http.Header{"Authorization": {"Bearer " + secret[:len(secret)-1] + "Z"}}},
		{"secret as basic auth", "", http.Header{"Authorization": {"Basic " + secret}}},
		{"longer bearer", "", http.Header{"Authorization": {"Bearer " + secret + "x"}}},
		{"forged cookie", "", http.Header{"Cookie": {"waflow_preview=99999999999.AAAA"}}},
		{"secret as cookie", "", http.Header{"Cookie": {"waflow_preview=" + secret}}},
		{"wrong key in URL", "?key=nope", nil},
	}
	for _, rt := range routes {
		for _, rf := range refusals {
			q := rf.query
			if rt.method != "GET" && q != "" {
				continue // a key in the URL is only taken on pages
			}
			resp, body := send(t, http.DefaultClient, rt.method, srv.URL+rt.path+q, rt.body, rf.header)
			if resp.StatusCode != 401 || resp.Header.Get("Set-Cookie") != "" || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s, %s: %d %q, want 401 and no cookie", rt.method, rt.path, rf.name, resp.StatusCode, body)
			}
			if strings.Contains(body, "expense_entry") || strings.Contains(body, "function render(") {
				t.Errorf("%s %s, %s: the refusal reveals the preview: %q", rt.method, rt.path, rf.name, body)
			}
		}
		// A key in the URL of an API call is not a sign-in.
		if rt.method == "POST" {
			if resp, _ := send(t, http.DefaultClient, rt.method, srv.URL+rt.path+"?key="+secret, rt.body, nil); resp.StatusCode != 401 {
				t.Errorf("%s %s?key=: %d, want 401", rt.method, rt.path, resp.StatusCode)
			}
		}
	}
	resp, body := send(t, http.DefaultClient, "GET", srv.URL+"/preview/", "", nil)
	if !strings.Contains(body, "?key=SECRET") || !strings.Contains(body, "Authorization: Bearer SECRET") {
		t.Errorf("the 401 does not say how to sign in: %d %q", resp.StatusCode, body)
	}
	resp, body = send(t, http.DefaultClient, "POST", srv.URL+"/preview/api/flows/expense_entry/start", "{}", nil)
	if resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(body, `"error"`) {
		t.Errorf("the API's 401 is not JSON: %s %q", resp.Header.Get("Content-Type"), body)
	}

	bearer := http.Header{"Authorization": {"Bearer " + secret}}
	want := map[string]int{"/preview/flow/nope": 404}
	for _, rt := range routes {
		resp, body := send(t, http.DefaultClient, rt.method, srv.URL+rt.path, rt.body, bearer)
		code := 200
		if c, ok := want[rt.path]; ok {
			code = c
		}
		if strings.HasSuffix(rt.path, "/act") {
			code = 403 // signed in, but no token of this preview
		}
		if resp.StatusCode != code {
			t.Errorf("%s %s with the secret: %d %q, want %d", rt.method, rt.path, resp.StatusCode, body, code)
		}
	}
	_, a := postWith(t, srv.URL+"/preview/api/flows/expense_entry/start", nil, bearer)
	if a.View == nil || a.View.Screen != "EXPENSE" || a.Seal == "" {
		t.Fatalf("start with the secret: %+v", a)
	}
	code, a := postWith(t, srv.URL+"/preview/api/flows/expense_entry/act",
		map[string]any{"state": a.State, "flow_token": a.Token, "token_seal": a.Seal, "op": "submit", "form": map[string]any{"amount": "12.50", "category": "food"}}, bearer)
	if code != 200 || a.View == nil || a.View.Screen != "SAVED" {
		t.Fatalf("act with the secret: %d %+v", code, a)
	}
}

// TestSignInByURL: the secret given once in a page's URL sets a Secure,
// HttpOnly, SameSite=Strict cookie and redirects to the URL without the
// key; the cookie then opens every route.
func TestSignInByURL(t *testing.T) {
	srv, _ := newPreviewWith(t, secret)
	resp, _ := send(t, noRedirect, "GET", srv.URL+"/preview/flow/expense_entry?debug=1&key="+url.QueryEscape(secret), "", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/preview/flow/expense_entry?debug=1" {
		t.Fatalf("sign-in: %d Location %q, want 303 to the page without the key", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("sign-in set %d cookies", len(cookies))
	}
	c := cookies[0]
	if c.Name != "waflow_preview" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/preview/" || c.MaxAge <= 0 {
		t.Errorf("cookie %+v: want Secure, HttpOnly, SameSite=Strict, Path=/preview/, a max age", c)
	}
	if strings.Contains(c.Value, secret) || strings.Contains(resp.Header.Get("Location"), secret) {
		t.Error("the secret itself is in the cookie or the redirect")
	}
	if resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("sign-in headers: %v", resp.Header)
	}
	jar := http.Header{"Cookie": {c.Name + "=" + c.Value}}
	for _, rt := range routes[:6] {
		if resp, body := send(t, http.DefaultClient, rt.method, srv.URL+rt.path, rt.body, jar); resp.StatusCode != 200 {
			t.Errorf("%s %s with the cookie: %d %q", rt.method, rt.path, resp.StatusCode, body)
		}
	}
	// A proxy's own Basic sign-in passed through leaves the cookie in charge.
	basic := http.Header{"Cookie": jar["Cookie"], "Authorization": {"Basic dXNlcjpwYXNz"}}
	if resp, _ := send(t, http.DefaultClient, "GET", srv.URL+"/preview/", "", basic); resp.StatusCode != 200 {
		t.Errorf("cookie with a Basic Authorization header: %d, want 200", resp.StatusCode)
	}
	// A tampered expiry breaks the signature.
	exp, mac, _ := strings.Cut(c.Value, ".")
	tampered := http.Header{"Cookie": {c.Name + "=" + exp + "9." + mac}}
	if resp, _ := send(t, http.DefaultClient, "GET", srv.URL+"/preview/", "", tampered); resp.StatusCode != 401 {
		t.Errorf("tampered cookie: %d, want 401", resp.StatusCode)
	}
	// A cookie of another preview (another secret) is refused.
	other, _ := newPreviewWith(t, secret+"-other")
	if resp, _ := send(t, http.DefaultClient, "GET", other.URL+"/preview/", "", jar); resp.StatusCode != 401 {
		t.Errorf("cookie of another secret: %d, want 401", resp.StatusCode)
	}

	// From a link on another site, the browser would not send the Strict
	// cookie on a redirect: the page goes on by itself.
	resp, body := send(t, noRedirect, "GET", srv.URL+"/preview/?key="+url.QueryEscape(secret), "", http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if resp.StatusCode != 200 || len(resp.Cookies()) != 1 || !strings.Contains(body, `<meta http-equiv="refresh" content="0;url=/preview/">`) || strings.Contains(body, secret) {
		t.Errorf("cross-site sign-in: %d %q", resp.StatusCode, body)
	}
}

// TestActSignsOnlyItsTokens: /act refuses a flow token the preview did
// not issue (here a valid one, issued by the server's own store, that the
// endpoint would accept), a token with another token's seal, and a seal of
// another flow.
func TestActSignsOnlyItsTokens(t *testing.T) {
	srv, tokens := newPreviewWith(t, "")
	_, started := post(t, srv.URL+"/preview/api/flows/expense_entry/start", nil)
	foreign, _, err := tokens.Issue(t.Context(), "expense_entry", "15550001111")
	if err != nil {
		t.Fatal(err)
	}
	_, survey := post(t, srv.URL+"/preview/api/flows/feedback_survey/start", nil)
	form := map[string]any{"amount": "12.50", "category": "food"}
	for _, tt := range []struct {
		name, token, seal string
	}{
		{"no seal", foreign, ""},
		{"another token's seal", foreign, started.Seal},
		{"made-up token", "tok-" + started.Token, started.Seal},
		{"another flow's seal", survey.Token, survey.Seal},
	} {
		code, a := post(t, srv.URL+"/preview/api/flows/expense_entry/act", map[string]any{"state": started.State, "flow_token": tt.token, "token_seal": tt.seal, "op": "submit", "form": form})
		if code != 403 || !strings.Contains(a.Error, "flow_token was not issued by this preview") {
			t.Errorf("%s: %d %q, want 403", tt.name, code, a.Error)
		}
	}
	// The session's own token goes through.
	a := act(t, srv, "expense_entry", started, "submit", form)
	if a.View.Screen != "SAVED" {
		t.Errorf("own token: %+v", a.View)
	}
}

// TestSealAcrossReplicas: with a secret, a session started on one replica
// goes on on another (a load balancer, a restart); a preview with another
// secret refuses it.
func TestSealAcrossReplicas(t *testing.T) {
	one, _ := newPreviewWith(t, secret)
	two, _ := newPreviewWith(t, secret)
	other, _ := newPreviewWith(t, secret+"-other")
	bearer := http.Header{"Authorization": {"Bearer " + secret}}
	_, started := postWith(t, one.URL+"/preview/api/flows/feedback_survey/start", nil, bearer)
	body := map[string]any{"state": started.State, "flow_token": started.Token, "token_seal": started.Seal, "op": "submit", "form": map[string]any{"rating": "5"}}
	if code, a := postWith(t, two.URL+"/preview/api/flows/feedback_survey/act", body, bearer); code != 200 {
		t.Errorf("the session on another replica: %d %q", code, a.Error)
	}
	otherBearer := http.Header{"Authorization": {"Bearer " + secret + "-other"}}
	if code, _ := postWith(t, other.URL+"/preview/api/flows/feedback_survey/act", body, otherBearer); code != 403 {
		t.Errorf("the session on a preview with another secret: %d, want 403", code)
	}
}

// TestShortSecret: New refuses a secret too short to be one.
func TestShortSecret(t *testing.T) {
	src, _ := catalog.Source("feedback_survey")
	spec, _ := flowjson.ValidateSource(src)
	_, err := preview.New(preview.Config{Flows: []preview.Flow{{Name: "x", Spec: spec}}, Secret: "short"})
	if err == nil || !strings.Contains(err.Error(), "the secret is 5 bytes; use at least 16") {
		t.Errorf("New with a 5-byte secret = %v", err)
	}
}
