package flowtoken

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"
)

// Errors returned by VerifySignatureJWT.
var (
	ErrJWTMalformed = errors.New("flowtoken: flow_token_signature is not a JWT")
	ErrJWTAlgorithm = errors.New("flowtoken: flow_token_signature is not signed with HS256")
	ErrJWTSignature = errors.New("flowtoken: flow_token_signature does not verify under the app secret")
	ErrJWTMismatch  = errors.New("flowtoken: flow_token_signature is for another flow token")
	ErrJWTExpired   = errors.New("flowtoken: flow_token_signature has expired")
)

// VerifySignatureJWT verifies the flow_token_signature that Data API 4.0
// requests carry (Flow JSON 7.3 and later): a JWT signed by Meta with HS256
// keyed by the Meta app secret, whose payload holds the flow token
// (protocol.md section 7). It checks the algorithm, the HMAC under any of
// appSecrets (rotation), that a string claim equals flowToken, and "exp"
// and "nbf" when present, with one minute of leeway for clock skew.
//
// Meta documents only that the payload "contains the flow token", not the
// claim's name, so any string claim holding flowToken is accepted;
// [InspectSignatureJWT] says which one did.
func VerifySignatureJWT(jwt, flowToken string, appSecrets [][]byte, now time.Time) error {
	return VerifySignatureJWTWith(jwt, flowToken, secretList(appSecrets), now)
}

// MACVerifier checks an HMAC-SHA256 under the app secret(s), in constant
// time. *signature.Verifier implements it, so the secrets that check
// X-Hub-Signature-256 check the flow_token_signature too.
type MACVerifier interface {
	VerifyMAC(message, mac []byte) bool
}

// VerifySignatureJWTWith is VerifySignatureJWT with the app secrets behind
// macs. A nil macs verifies nothing: every signature is refused.
func VerifySignatureJWTWith(jwt, flowToken string, macs MACVerifier, now time.Time) error {
	_, err := InspectSignatureJWT(jwt, flowToken, macs, now)
	return err
}

// JWTShape describes a flow_token_signature without its values: what a
// server may log to learn the claims Meta really sends.
type JWTShape struct {
	// Claims are the payload's claim names, sorted; nil when the payload
	// could not be read. Never their values.
	Claims []string
	// TokenClaim is the name of the string claim that equals the flow
	// token ("flow_token" is the expected one); "" when none does. Names
	// longer than 64 bytes are cut, here and in Claims, and end in "...".
	TokenClaim string
}

// maxClaims bounds the claim names a JWTShape reports, so that a log line
// stays short whatever the payload.
const maxClaims = 32

// maxClaimName bounds the length of a claim name in a JWTShape; a longer
// one is cut and marked with "...".
const maxClaimName = 64

// InspectSignatureJWT is VerifySignatureJWTWith that also returns the
// JWT's shape: its claim names as soon as the payload parses (before the
// HMAC is checked, so a signature that fails still shows its shape), and
// the claim holding the flow token. The error is one of the ErrJWT
// sentinels.
func InspectSignatureJWT(jwt, flowToken string, macs MACVerifier, now time.Time) (JWTShape, error) {
	var shape JWTShape
	if len(jwt) > 8*MaxLen {
		return shape, ErrJWTMalformed
	}
	first := strings.IndexByte(jwt, '.')
	last := strings.LastIndexByte(jwt, '.')
	if first < 0 || first == last {
		return shape, ErrJWTMalformed
	}
	h64, p64, s64 := jwt[:first], jwt[first+1:last], jwt[last+1:]
	hb, err1 := decode64(h64)
	pb, err2 := decode64(p64)
	sig, err3 := decode64(s64)
	if err1 != nil || err2 != nil || err3 != nil {
		return shape, ErrJWTMalformed
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hb, &header) != nil {
		return shape, ErrJWTMalformed
	}
	var claims map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(pb))
	d.UseNumber()
	if d.Decode(&claims) != nil || claims == nil {
		return shape, ErrJWTMalformed
	}
	for name := range claims {
		if len(shape.Claims) == maxClaims {
			break
		}
		if len(name) > maxClaimName {
			name = name[:maxClaimName] + "..."
		}
		shape.Claims = append(shape.Claims, name)
	}
	sort.Strings(shape.Claims)
	if header.Alg != "HS256" {
		return shape, ErrJWTAlgorithm
	}
	if macs == nil || !macs.VerifyMAC([]byte(jwt[:last]), sig) {
		return shape, ErrJWTSignature
	}
	// Every string claim is compared, in constant time, whichever matched:
	// the name is not documented (protocol.md section 7).
	names := make([]string, 0, len(claims))
	for name := range claims {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		var v string
		if json.Unmarshal(claims[name], &v) != nil {
			continue
		}
		if hmac.Equal([]byte(v), []byte(flowToken)) && shape.TokenClaim == "" {
			shape.TokenClaim = name
			if len(name) > maxClaimName {
				shape.TokenClaim = name[:maxClaimName] + "..."
			}
		}
	}
	if shape.TokenClaim == "" {
		return shape, ErrJWTMismatch
	}
	const leeway = time.Minute
	for _, c := range []struct {
		name    string
		expired func(t time.Time) bool
	}{
		{"exp", func(t time.Time) bool { return now.Add(-leeway).After(t) }},
		{"nbf", func(t time.Time) bool { return now.Add(leeway).Before(t) }},
	} {
		raw, ok := claims[c.name]
		if !ok || string(raw) == "null" {
			continue
		}
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return shape, ErrJWTMalformed
		}
		f, err := n.Float64()
		if err != nil {
			return shape, ErrJWTMalformed
		}
		if c.expired(time.Unix(int64(f), 0)) {
			return shape, ErrJWTExpired
		}
	}
	return shape, nil
}

// secretList is a MACVerifier over a list of secrets; empty ones are
// skipped, and every secret is tried whatever matched.
type secretList [][]byte

func (l secretList) VerifyMAC(message, mac []byte) bool {
	ok := false
	for _, s := range l {
		if len(s) == 0 {
			continue
		}
		m := hmac.New(sha256.New, s)
		m.Write(message)
		if hmac.Equal(m.Sum(nil), mac) {
			ok = true
		}
	}
	return ok
}

// SignJWT returns a flow_token_signature for flowToken as Meta makes it
// (HS256 with the app secret), with an expiry when exp is not zero. The
// simulator and the tests use it to play WhatsApp's part.
func SignJWT(flowToken string, appSecret []byte, exp time.Time) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims := map[string]any{"flow_token": flowToken}
	if !exp.IsZero() {
		claims["exp"] = exp.Unix()
	}
	pb, _ := json.Marshal(claims)
	head := h + "." + base64.RawURLEncoding.EncodeToString(pb)
	m := hmac.New(sha256.New, appSecret)
	m.Write([]byte(head))
	return head + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
