package flowtoken

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
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
// appSecrets (rotation), that the "flow_token" claim equals flowToken, and
// "exp" and "nbf" when present, with one minute of leeway for clock skew.
//
// The claim name is not documented by Meta beyond "contains the flow token";
// "flow_token" is what waflow expects.
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
	if len(jwt) > 8*MaxLen {
		return ErrJWTMalformed
	}
	first := strings.IndexByte(jwt, '.')
	last := strings.LastIndexByte(jwt, '.')
	if first < 0 || first == last {
		return ErrJWTMalformed
	}
	h64, p64, s64 := jwt[:first], jwt[first+1:last], jwt[last+1:]
	hb, err1 := decode64(h64)
	pb, err2 := decode64(p64)
	sig, err3 := decode64(s64)
	if err1 != nil || err2 != nil || err3 != nil {
		return ErrJWTMalformed
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hb, &header) != nil {
		return ErrJWTMalformed
	}
	if header.Alg != "HS256" {
		return ErrJWTAlgorithm
	}
	if macs == nil || !macs.VerifyMAC([]byte(jwt[:last]), sig) {
		return ErrJWTSignature
	}
	var claims struct {
		FlowToken *string      `json:"flow_token"`
		Exp       *json.Number `json:"exp"`
		Nbf       *json.Number `json:"nbf"`
	}
	d := json.NewDecoder(bytes.NewReader(pb))
	d.UseNumber()
	if d.Decode(&claims) != nil {
		return ErrJWTMalformed
	}
	if claims.FlowToken == nil || !hmac.Equal([]byte(*claims.FlowToken), []byte(flowToken)) {
		return ErrJWTMismatch
	}
	const leeway = time.Minute
	if claims.Exp != nil {
		exp, err := claims.Exp.Float64()
		if err != nil {
			return ErrJWTMalformed
		}
		if now.Add(-leeway).After(time.Unix(int64(exp), 0)) {
			return ErrJWTExpired
		}
	}
	if claims.Nbf != nil {
		nbf, err := claims.Nbf.Float64()
		if err != nil {
			return ErrJWTMalformed
		}
		if now.Add(leeway).Before(time.Unix(int64(nbf), 0)) {
			return ErrJWTExpired
		}
	}
	return nil
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
