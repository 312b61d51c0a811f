package preview_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/catalog"
	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/preview"
)

// FuzzAct: whatever a page (or anyone) posts to the act endpoint of a
// static flow, the answer is 200 or a 4xx with a JSON error, never a crash
// or a 500. A body that is a JSON object gets the flow token and seal of a
// started session first (keys it has itself win), so that the fuzzer gets
// past the seal check.
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
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/preview/api/flows/s/start", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	var started struct {
		Token string `json:"flow_token"`
		Seal  string `json:"token_seal"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &started); err != nil || started.Seal == "" {
		f.Fatalf("start: %d %s", rec.Code, rec.Body)
	}
	session, _ := json.Marshal(started)
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
		if rest, ok := strings.CutPrefix(body, "{"); ok {
			if !strings.HasPrefix(strings.TrimSpace(rest), "}") {
				rest = "," + rest
			}
			body = string(session[:len(session)-1]) + rest
		}
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

// signedCookie reports whether r carries a sign-in cookie made with secret
// that has not expired: "EXPIRY.MAC", the MAC an HMAC-SHA256 of EXPIRY under
// a key derived from the secret. The fuzz workers are separate processes
// that each sign in at their own second, so a cookie one of them signed
// must count as valid in another.
func signedCookie(r *http.Request, secret string) bool {
	k := hmac.New(sha256.New, []byte(secret))
	k.Write([]byte("waflow preview sign-in cookie"))
	for _, c := range r.CookiesNamed("waflow_preview") {
		exp, mac, _ := strings.Cut(c.Value, ".")
		m := hmac.New(sha256.New, k.Sum(nil))
		m.Write([]byte(exp))
		t, err := strconv.ParseInt(exp, 10, 64)
		if mac == base64.RawURLEncoding.EncodeToString(m.Sum(nil)) && err == nil && time.Now().Unix() < t {
			return true
		}
	}
	return false
}

// FuzzSignIn: with a secret, no key, Authorization header or cookie lets
// a request through unless it carries the secret or a cookie the preview
// set, and nothing crashes.
func FuzzSignIn(f *testing.F) {
	const secret = "a-preview-secret-of-32-bytes-xyz"
	src, err := catalog.Source("feedback_survey")
	if err != nil {
		f.Fatal(err)
	}
	spec, _ := flowjson.ValidateSource(src)
	h, err := preview.New(preview.Config{Flows: []preview.Flow{{Name: "s", Spec: spec, Source: src}}, Secret: secret})
	if err != nil {
		f.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/preview/?key="+secret, nil))
	var valid string
	for _, c := range rec.Result().Cookies() {
		valid = c.Value
	}
	if valid == "" {
		f.Fatalf("sign-in set no cookie: %d", rec.Code)
	}
	f.Add("", "", "")
	f.Add(secret, "", "")
	f.Add("", "Bearer "+secret, "")
	f.Add("", "bearer  "+secret+" ", "")
	f.Add("", "Basic "+secret, "")
	f.Add("", "Basic dXNlcjpwYXNz", "waflow_preview="+valid)
	f.Add("", "", "waflow_preview="+valid)
	f.Add("", "", "waflow_preview="+valid+"0")
	f.Add("", "", "a=b; waflow_preview=1.x; waflow_preview="+valid)
	f.Add("x", "Bearer", "waflow_preview=.")
	f.Fuzz(func(t *testing.T, key, auth, cookie string) {
		u := "/preview/"
		if key != "" {
			u += "?key=" + url.QueryEscape(key)
		}
		req := httptest.NewRequest(http.MethodGet, u, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		scheme, bearer, _ := strings.Cut(auth, " ")
		isBearer := strings.EqualFold(scheme, "Bearer")
		switch {
		case rec.Code == http.StatusUnauthorized:
		case rec.Code == http.StatusSeeOther && key == secret:
		case rec.Code == http.StatusOK && key == "" && (isBearer && strings.TrimSpace(bearer) == secret || !isBearer && signedCookie(req, secret)):
		default:
			t.Fatalf("key %q, Authorization %q, Cookie %q: %d", key, auth, cookie, rec.Code)
		}
		if strings.Contains(rec.Header().Get("Location"), secret) || strings.Contains(rec.Body.String(), secret) {
			t.Fatalf("the answer holds the secret: %v %s", rec.Header(), rec.Body)
		}
	})
}
