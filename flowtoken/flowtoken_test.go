package flowtoken_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/flowtoken"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func newIssuer(t *testing.T, now *time.Time, secrets ...string) *flowtoken.Issuer {
	t.Helper()
	var bs [][]byte
	for _, s := range secrets {
		bs = append(bs, []byte(s))
	}
	iss, err := flowtoken.NewIssuer(bs...)
	if err != nil {
		t.Fatal(err)
	}
	iss.TTL = time.Hour
	iss.Now = func() time.Time { return *now }
	return iss
}

func TestIssueVerify(t *testing.T) {
	now := t0
	iss := newIssuer(t, &now, "server-secret")
	tok, c, err := iss.Issue("appointment_booking", "4915112345678")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ID) != 22 || c.Flow != "appointment_booking" || c.WAID != "4915112345678" || !c.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("claims = %+v", c)
	}
	got, err := iss.Verify(tok, "appointment_booking")
	if err != nil || got.ID != c.ID || got.WAID != c.WAID || !got.ExpiresAt.Equal(c.ExpiresAt) {
		t.Fatalf("Verify = %+v, %v; want %+v", got, err, c)
	}
	tok2, c2, _ := iss.Issue("appointment_booking", "4915112345678")
	if tok2 == tok || c2.ID == c.ID {
		t.Fatal("two tokens for the same user and flow are identical; ids must be random")
	}

	t.Run("other flow", func(t *testing.T) {
		if _, err := iss.Verify(tok, "expense_entry"); !errors.Is(err, flowtoken.ErrWrongFlow) {
			t.Fatalf("err = %v, want ErrWrongFlow", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		now = t0.Add(time.Hour)
		defer func() { now = t0 }()
		if _, err := iss.Verify(tok, "appointment_booking"); !errors.Is(err, flowtoken.ErrExpired) {
			t.Fatalf("err = %v, want ErrExpired", err)
		}
	})
	t.Run("other secret", func(t *testing.T) {
		other := newIssuer(t, &now, "another-secret")
		if _, err := other.Verify(tok, "appointment_booking"); !errors.Is(err, flowtoken.ErrForged) {
			t.Fatalf("err = %v, want ErrForged", err)
		}
	})
	t.Run("rotation accepts the previous secret", func(t *testing.T) {
		rotated := newIssuer(t, &now, "new-secret", "server-secret")
		if _, err := rotated.Verify(tok, "appointment_booking"); err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
	})
	t.Run("payload changed", func(t *testing.T) {
		// Re-encode the payload with another user: the MAC no longer matches.
		parts := strings.Split(tok, ".")
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		forged := strings.Replace(string(raw), "4915112345678", "4915199999999", 1)
		f := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
		if _, err := iss.Verify(f, "appointment_booking"); !errors.Is(err, flowtoken.ErrForged) {
			t.Fatalf("err = %v, want ErrForged", err)
		}
	})
	for _, bad := range []string{"", "unused", "wf1.", "wf1..", "wf1.abc", "wf1.abc.def", tok + "x", strings.Repeat("a", 5000)} {
		if _, err := iss.Verify(bad, "appointment_booking"); !errors.Is(err, flowtoken.ErrMalformed) && !errors.Is(err, flowtoken.ErrForged) {
			t.Errorf("Verify(%.20q) = %v, want ErrMalformed or ErrForged", bad, err)
		}
	}
}

func TestNoSecretFailsClosed(t *testing.T) {
	if _, err := flowtoken.NewIssuer(); !errors.Is(err, flowtoken.ErrNoSecret) {
		t.Fatalf("NewIssuer() = %v, want ErrNoSecret", err)
	}
	if _, err := flowtoken.NewIssuer([]byte{}); !errors.Is(err, flowtoken.ErrNoSecret) {
		t.Fatalf("NewIssuer(empty) = %v, want ErrNoSecret", err)
	}
	var iss *flowtoken.Issuer
	if _, err := iss.Verify("wf1.a.b", "f"); !errors.Is(err, flowtoken.ErrNoSecret) {
		t.Fatalf("nil Issuer Verify = %v, want ErrNoSecret", err)
	}
}

func TestSignatureJWT(t *testing.T) {
	secret := []byte("app-secret")
	jwt := flowtoken.SignJWT("tok-1", secret, t0.Add(5*time.Minute))
	tests := []struct {
		name    string
		jwt     string
		token   string
		secrets [][]byte
		now     time.Time
		want    error
	}{
		{"valid", jwt, "tok-1", [][]byte{secret}, t0, nil},
		{"valid under previous secret", jwt, "tok-1", [][]byte{[]byte("new"), secret}, t0, nil},
		{"other token", jwt, "tok-2", [][]byte{secret}, t0, flowtoken.ErrJWTMismatch},
		{"other secret", jwt, "tok-1", [][]byte{[]byte("nope")}, t0, flowtoken.ErrJWTSignature},
		{"no secret", jwt, "tok-1", nil, t0, flowtoken.ErrJWTSignature},
		{"expired", jwt, "tok-1", [][]byte{secret}, t0.Add(7 * time.Minute), flowtoken.ErrJWTExpired},
		{"not a jwt", "abc", "tok-1", [][]byte{secret}, t0, flowtoken.ErrJWTMalformed},
		{"bad base64", "a.b!.c", "tok-1", [][]byte{secret}, t0, flowtoken.ErrJWTMalformed},
		{"alg none", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + strings.Split(jwt, ".")[1] + ".", "tok-1", [][]byte{secret}, t0, flowtoken.ErrJWTAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := flowtoken.VerifySignatureJWT(tt.jwt, tt.token, tt.secrets, tt.now)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// Meta does not name the claim holding the flow token (protocol.md §7):
// any string claim equal to it is accepted, and the shape says which.
func TestInspectSignatureJWT(t *testing.T) {
	secret := []byte("app-secret")
	sign := func(claims string, key []byte) string {
		head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
		m := hmac.New(sha256.New, key)
		m.Write([]byte(head))
		return head + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	tests := []struct {
		name, claims string
		key          []byte
		want         error
		wantShape    flowtoken.JWTShape
	}{
		{"another claim name", `{"sub":"x","token":"tok-1","n":3}`, secret, nil, flowtoken.JWTShape{Claims: []string{"n", "sub", "token"}, TokenClaim: "token"}},
		{"the token in a number is not a match", `{"flow_token":1}`, secret, flowtoken.ErrJWTMismatch, flowtoken.JWTShape{Claims: []string{"flow_token"}}},
		{"bad HMAC still shows the shape", `{"flow_token":"tok-1"}`, []byte("other"), flowtoken.ErrJWTSignature, flowtoken.JWTShape{Claims: []string{"flow_token"}}},
		{"exp null is no expiry", `{"flow_token":"tok-1","exp":null}`, secret, nil, flowtoken.JWTShape{Claims: []string{"exp", "flow_token"}, TokenClaim: "flow_token"}},
		{"exp not a number", `{"flow_token":"tok-1","exp":"soon"}`, secret, flowtoken.ErrJWTMalformed, flowtoken.JWTShape{Claims: []string{"exp", "flow_token"}, TokenClaim: "flow_token"}},
		{"payload not an object", `["tok-1"]`, secret, flowtoken.ErrJWTMalformed, flowtoken.JWTShape{}},
		{"a long claim name is cut", `{"` + strings.Repeat("n", 100) + `":"tok-1"}`, secret, nil, flowtoken.JWTShape{Claims: []string{strings.Repeat("n", 64) + "..."}, TokenClaim: strings.Repeat("n", 64) + "..."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shape, err := flowtoken.InspectSignatureJWT(sign(tt.claims, tt.key), "tok-1", secretMAC(secret), t0)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !slices.Equal(shape.Claims, tt.wantShape.Claims) || shape.TokenClaim != tt.wantShape.TokenClaim {
				t.Fatalf("shape = %+v, want %+v", shape, tt.wantShape)
			}
		})
	}
}

// secretMAC is a MACVerifier over one secret.
type secretMAC []byte

func (s secretMAC) VerifyMAC(message, mac []byte) bool {
	m := hmac.New(sha256.New, s)
	m.Write(message)
	return hmac.Equal(m.Sum(nil), mac)
}

func FuzzVerify(f *testing.F) {
	now := t0
	iss, _ := flowtoken.NewIssuer([]byte("fuzz-secret"))
	iss.Now = func() time.Time { return now }
	tok, _, _ := iss.Issue("flow", "1")
	f.Add(tok)
	f.Add("wf1.e30.AAAA")
	f.Add(flowtoken.SignJWT("x", []byte("fuzz-secret"), time.Time{}))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := iss.Verify(s, "flow")
		if err == nil && (c.ID == "" || c.Flow != "flow") {
			t.Fatalf("accepted %q with claims %+v", s, c)
		}
		_ = flowtoken.VerifySignatureJWT(s, "x", [][]byte{[]byte("fuzz-secret")}, now)
	})
}

func TestParseIgnoresFlowAndExpiry(t *testing.T) {
	now := t0
	iss := newIssuer(t, &now, "server-secret")
	tok, c, _ := iss.Issue("feedback_survey", "1")
	now = t0.Add(48 * time.Hour)
	got, err := iss.Parse(tok)
	if err != nil || got.ID != c.ID || got.Flow != "feedback_survey" {
		t.Fatalf("Parse = %+v, %v", got, err)
	}
	if _, err := newIssuer(t, &now, "x").Parse(tok); !errors.Is(err, flowtoken.ErrForged) {
		t.Fatalf("Parse with another secret = %v, want ErrForged", err)
	}
}

// A redacted token is no credential, yet its issuer can still tell it was
// issued here and read its claims.
func TestRedact(t *testing.T) {
	now := t0
	iss := newIssuer(t, &now, "new-secret", "old-secret")
	tok, c, _ := iss.Issue("appointment_booking", "15551234567")
	r := flowtoken.Redact(tok)
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	if r == tok || strings.Contains(r, sig) || len(r) >= len(tok) || !flowtoken.IsRedacted(r) || flowtoken.IsRedacted(tok) {
		t.Fatalf("Redact(%q) = %q", tok, r)
	}
	if _, err := iss.Verify(r, "appointment_booking"); err == nil {
		t.Fatal("the redacted token verifies as a token")
	}
	if _, err := iss.Parse(r); err == nil {
		t.Fatal("the redacted token parses as a token")
	}
	got, err := iss.ParseRedacted(r)
	if err != nil || !same(got, c) {
		t.Fatalf("ParseRedacted = %+v, %v; want %+v", got, err, c)
	}
	// A token in clear, stored before tokens were redacted, still parses.
	if got, err := iss.ParseRedacted(tok); err != nil || !same(got, c) {
		t.Fatalf("ParseRedacted(clear) = %+v, %v", got, err)
	}
	// Rotation: a token of the old secret, redacted, still parses.
	oldIss := newIssuer(t, &now, "old-secret")
	oldTok, oc, _ := oldIss.Issue("expense_entry", "1")
	if got, err := iss.ParseRedacted(flowtoken.Redact(oldTok)); err != nil || !same(got, oc) {
		t.Fatalf("ParseRedacted(old secret) = %+v, %v", got, err)
	}

	other := newIssuer(t, &now, "another-secret")
	forged, _, _ := other.Issue("appointment_booking", "15551234567")
	dot := strings.LastIndexByte(r, '.')
	tampered := strings.Replace(r[:dot], "wf1.e", "wf1.f", 1) + r[dot:]
	for name, bad := range map[string]string{
		"another secret":   flowtoken.Redact(forged),
		"tampered payload": tampered,
		"redacted twice":   flowtoken.Redact(flowtoken.Redact(tok) + strings.Repeat("A", 20)),
		"cut short":        r[:len(r)-1],
		"one more":         r + "A",
	} {
		if _, err := iss.ParseRedacted(bad); err == nil {
			t.Errorf("ParseRedacted accepted %s: %q", name, bad)
		}
	}
	for in, want := range map[string]string{
		"":                    "",
		"unused":              flowtoken.Redacted,
		"my-own-scheme-token": flowtoken.Redacted,
		"wf1.x":               flowtoken.Redacted,
		"wf1.e30.short":       flowtoken.Redacted,
		tok + "A":             flowtoken.Redacted,
		"wf1." + strings.Repeat("A", 1100) + "." + sig: flowtoken.Redacted,
	} {
		if got := flowtoken.Redact(in); got != want {
			t.Errorf("Redact(%.40q) = %q, want %q", in, got, want)
		}
	}
	if _, err := iss.ParseRedacted(flowtoken.Redacted); !errors.Is(err, flowtoken.ErrMalformed) {
		t.Errorf("ParseRedacted(Redacted) = %v, want ErrMalformed", err)
	}
}

// Whatever Parse accepts, ParseRedacted accepts redacted, with the same
// claims; the redacted form never holds the signature; redacting twice never
// verifies.
func FuzzRedact(f *testing.F) {
	iss, _ := flowtoken.NewIssuer([]byte("fuzz-secret"))
	tok, _, _ := iss.Issue("flow", "1")
	f.Add(tok)
	f.Add("unused")
	f.Add("wf1.e30." + strings.Repeat("A", 43))
	f.Add("wf1.e30.~" + strings.Repeat("A", 22))
	f.Fuzz(func(t *testing.T, s string) {
		r := flowtoken.Redact(s)
		if len(r) > len(s) && r != flowtoken.Redacted {
			t.Fatalf("Redact(%q) = %q is longer", s, r)
		}
		c, err := iss.Parse(s)
		if err == nil {
			got, rerr := iss.ParseRedacted(r)
			if rerr != nil || !same(got, c) {
				t.Fatalf("Parse(%q) = %+v but ParseRedacted(%q) = %+v, %v", s, c, r, got, rerr)
			}
			if sig := s[strings.LastIndexByte(s, '.')+1:]; strings.Contains(r, sig) {
				t.Fatalf("Redact(%q) = %q holds the signature", s, r)
			}
			if _, err := iss.ParseRedacted(flowtoken.Redact(r)); err == nil {
				t.Fatalf("a token redacted twice verifies: %q", flowtoken.Redact(r))
			}
		}
	})
}

func same(a, b flowtoken.Claims) bool {
	return a.ID == b.ID && a.Flow == b.Flow && a.WAID == b.WAID && a.IssuedAt.Equal(b.IssuedAt) && a.ExpiresAt.Equal(b.ExpiresAt)
}

// A token has one spelling: Go's base64 decoder would skip CR and LF and
// ignore the unused bits of the last character, so a copy spelled another
// way would verify as the same token.
func TestOneSpellingPerToken(t *testing.T) {
	now := t0
	iss := newIssuer(t, &now, "server-secret")
	tok, _, err := iss.Issue("flow", "1")
	if err != nil {
		t.Fatal(err)
	}
	dot := strings.LastIndexByte(tok, '.')
	last := tok[len(tok)-1]
	// The signature's 43rd character carries 2 unused bits: flipping the
	// lowest one decodes to the same bytes with a lax decoder.
	flipped := tok[:len(tok)-1] + string(last^1)
	for name, variant := range map[string]string{
		"CR in the signature": tok[:dot+5] + "\r" + tok[dot+5:],
		"LF in the head":      tok[:8] + "\n" + tok[8:],
		"unused bits set":     flipped,
	} {
		if _, err := iss.Parse(variant); err == nil {
			t.Errorf("%s: Parse accepted %q", name, variant)
		}
	}
}

// FuzzInspectSignatureJWT: any string is refused or accepted without
// panicking; an accepted JWT names the claim holding the token, and the
// shape never holds more than names.
func FuzzInspectSignatureJWT(f *testing.F) {
	secret := []byte("fuzz-secret")
	f.Add(flowtoken.SignJWT("tok", secret, t0.Add(time.Minute)))
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.")
	f.Fuzz(func(t *testing.T, jwt string) {
		shape, err := flowtoken.InspectSignatureJWT(jwt, "tok", secretMAC(secret), t0)
		if err == nil && shape.TokenClaim == "" {
			t.Fatal("accepted without a claim holding the token")
		}
		if !slices.IsSorted(shape.Claims) || len(shape.Claims) > 32 {
			t.Fatalf("claims %v: not sorted or too many", shape.Claims)
		}
	})
}

// A token sent to a user known by a business-scoped user id binds it, with
// or without the phone number, and keeps it through redaction (what the
// webhook stores).
func TestIssueUserBindsBSUID(t *testing.T) {
	iss, err := flowtoken.NewIssuer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ waID, userID string }{{"", "US.13491208655302741918"}, {"15551234567", "US.13491208655302741918"}, {"15551234567", ""}} {
		tok, c, err := iss.IssueUser("customer_survey", tc.waID, tc.userID)
		if err != nil {
			t.Fatal(err)
		}
		if c.WAID != tc.waID || c.UserID != tc.userID {
			t.Fatalf("claims %+v, want phone %q and BSUID %q", c, tc.waID, tc.userID)
		}
		for name, parse := range map[string]func() (flowtoken.Claims, error){
			"Verify":        func() (flowtoken.Claims, error) { return iss.Verify(tok, "customer_survey") },
			"ParseRedacted": func() (flowtoken.Claims, error) { return iss.ParseRedacted(flowtoken.Redact(tok)) },
		} {
			got, err := parse()
			if err != nil || got.WAID != tc.waID || got.UserID != tc.userID || got.ID != c.ID {
				t.Fatalf("%s: %+v, %v; want phone %q and BSUID %q", name, got, err, tc.waID, tc.userID)
			}
		}
	}
}
