package flowsdir_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/waflow/waflow/flowsdir"
)

func TestParseManifestDefaults(t *testing.T) {
	m, ps := flowsdir.ParseManifest([]byte(`{}`))
	if len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	if m.Title != "" || m.Backend != nil || m.ReplacesCatalog || len(m.Categories) != 0 {
		t.Errorf("empty manifest = %+v, want the zero Manifest", m)
	}
	m, ps = flowsdir.ParseManifest([]byte(`{"backend": {"url": "https://b.example:8443/x?y=1", "secret_file": "s"}}`))
	if len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	if m.Backend.Tokens != flowsdir.TokensWaflow || m.Backend.Timeout != 0 || m.Backend.Secret != nil {
		t.Errorf("backend = %+v, want waflow's tokens, no timeout of its own, no secret read", m.Backend)
	}
}

func TestParseManifestProblems(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`[]`, "1:1: INVALID_MANIFEST_JSON: a manifest is a JSON object, not array"},
		{`{"title": 3}`, "1:11: INVALID_MANIFEST_VALUE: title is a string, not number"},
		{`{"title": "a\nb"}`, "1:11: INVALID_MANIFEST_VALUE: title is one line"},
		{`{"title": "a", "title": "b"}`, "1:16: DUPLICATE_PROPERTY: title is given twice"},
		{`{"categories": "SURVEY"}`, "1:16: INVALID_MANIFEST_VALUE: categories is a list"},
		{`{"categories": ["SURVEYS"]}`, `1:17: INVALID_MANIFEST_VALUE: unknown category "SURVEYS"; Meta's are SIGN_UP,`},
		{`{"categories": ["SURVEY", "SURVEY"]}`, "1:27: INVALID_MANIFEST_VALUE: category SURVEY is listed twice"},
		{`{"replaces_catalog": "yes"}`, "1:22: INVALID_MANIFEST_VALUE: replaces_catalog is true or false"},
		{`{"backend": "http://h/"}`, "1:13: INVALID_MANIFEST_VALUE: backend is an object"},
		{`{"backend": {"secret_env": "S"}}`, "1:13: MISSING_MANIFEST_KEY: backend.url is required"},
		{`{"backend": {"url": "http://h/"}}`, "1:13: MISSING_MANIFEST_KEY: backend needs its signing secret"},
		{`{"backend": {"url": "http://h/", "secret_env": "S", "secret_file": "f"}}`, "1:48: INVALID_MANIFEST_VALUE: backend has both secret_file and secret_env"},
		{`{"backend": {"url": "http:///x", "secret_env": "S"}}`, "1:21: INVALID_MANIFEST_VALUE: backend.url has no host"},
		{`{"backend": {"url": "http://u:p@h/", "secret_env": "S"}}`, "backend.url must not hold credentials"},
		{`{"backend": {"url": "/relative", "secret_env": "S"}}`, `backend.url must be an http or https URL, not ":"`},
		{`{"backend": {"url": "http://h/", "secret_env": "1X"}}`, "backend.secret_env is an environment variable's name"},
		{`{"backend": {"url": "http://h/", "secret_env": "S", "timeout": 2}}`, "backend.timeout is a duration string"},
		{`{"backend": {"url": "http://h/", "secret_env": "S", "timeout": "2 s"}}`, "is not a duration"},
		{`{"backend": {"url": "http://h/", "secret_env": "S", "timeout": "-1s"}}`, "backend.timeout must be positive"},
		{`{"backend": {"url": "http://h/", "secret_env": "S", "tokens": "meta"}}`, `backend.tokens is "waflow"`},
		{`{"name": "x"}`, `unknown key "name"; the keys are title, summary, categories, backend, replaces_catalog`},
		{`{"Title": "x"}`, `unknown key "Title"; did you mean "title"?`},
		{`{"replace_catalog": true}`, `did you mean "replaces_catalog"?`},
		{`{"webhook_secret": "whsec_x"}`, "webhook_secret: a manifest never holds a secret (manifests are committed): put it in a file and name it with backend.secret_file"},
		{strings.Repeat(" ", 70<<10) + "{}", "INVALID_MANIFEST_JSON: the manifest is 71682 bytes"},
	} {
		_, ps := flowsdir.ParseManifest([]byte(tc.src))
		var got []string
		for _, p := range ps {
			got = append(got, p.String())
		}
		if !strings.Contains(strings.Join(got, "\n"), tc.want) {
			t.Errorf("ParseManifest(%.60s) = %q, want %q", tc.src, got, tc.want)
		}
	}
}

func TestParseManifestSecretNeverInMessages(t *testing.T) {
	const secret = "whsec_c2VjcmV0LXZhbHVl"
	for _, src := range []string{
		`{"backend": {"url": "http://h/", "secret_env": "` + secret + `"}}`,
		`{"backend": {"url": "http://h/", "secret_file": "` + secret + `"}}`,
		`{"backend": {"url": "http://h/", "secret": "` + secret + `"}}`,
		`{"secret": "` + secret + `"}`,
	} {
		_, ps := flowsdir.ParseManifest([]byte(src))
		if len(ps) == 0 {
			t.Errorf("ParseManifest(%s): no problem", src)
		}
		for _, p := range ps {
			if strings.Contains(p.Message, "c2VjcmV0") {
				t.Errorf("a message repeats the secret: %s", p)
			}
		}
	}
}

// FuzzParseManifest: any input is parsed without panic, and a manifest
// accepted without problems holds only what the documentation allows.
func FuzzParseManifest(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"title": "T", "summary": "S", "categories": ["SURVEY", "OTHER"], "replaces_catalog": true}`,
		`{"backend": {"url": "http://127.0.0.1:3000/f", "secret_env": "FLOW_SECRET", "timeout": "1500ms", "tokens": "backend"}}`,
		`{"backend": {"url": "https://b.example/f", "secret_file": "secrets/f"}}`,
		`{"backend": {"url": "ftp://x/", "secret": "whsec_x", "timeout": "11s"}}`,
		`{"titel": 1, "backend": [], "categories": {}}`,
		`{"title": "a", "title": "b"`,
		`[]`, `null`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		m, ps := flowsdir.ParseManifest(src)
		for _, p := range ps {
			if p.Code == "" || p.Message == "" {
				t.Fatalf("problem without code or message: %+v", p)
			}
		}
		if len(ps) > 0 {
			return
		}
		if m == nil {
			t.Fatal("no problems and no manifest")
		}
		if b := m.Backend; b != nil {
			u, err := url.Parse(b.URL)
			if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
				t.Errorf("accepted backend URL %q", b.URL)
			}
			if b.Timeout < 0 || b.Timeout > flowsdir.MaxTimeout {
				t.Errorf("accepted timeout %v", b.Timeout)
			}
			if (b.SecretFile == "") == (b.SecretEnv == "") {
				t.Errorf("accepted secret_file %q with secret_env %q", b.SecretFile, b.SecretEnv)
			}
			if b.Tokens != flowsdir.TokensWaflow && b.Tokens != flowsdir.TokensBackend {
				t.Errorf("accepted tokens %q", b.Tokens)
			}
		}
	})
}
