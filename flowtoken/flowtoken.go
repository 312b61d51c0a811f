// Package flowtoken issues and verifies the flow tokens waflow puts in every
// flow message it sends, and verifies the flow_token_signature JWT that Data
// API 4.0 adds to endpoint requests.
//
// A flow token comes back in every data-endpoint request (except ping) and in
// the completion webhook (protocol.md section 7). Meta treats it as opaque;
// validating it is the business's job. waflow's tokens are self-describing
// and signed, so a request can be checked without a database lookup:
//
//	wf1.<base64url(payload)>.<base64url(HMAC-SHA256(secret, "wf1." + payload))>
//
// where the payload binds the flow name, the user's WhatsApp id (phone
// number) and/or business-scoped user id, the expiry
// and a random 128-bit id. Whether a token was already used is state, kept by
// the storage layer and keyed by that id.
package flowtoken

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors returned by Verify. Each of them means the endpoint answers 427.
var (
	ErrMalformed = errors.New("flowtoken: not a waflow flow token")
	ErrForged    = errors.New("flowtoken: signature does not match (forged or signed with another secret)")
	ErrExpired   = errors.New("flowtoken: expired")
	ErrWrongFlow = errors.New("flowtoken: issued for another flow")
	// ErrNoSecret means no token secret is configured: refuse, never skip.
	ErrNoSecret = errors.New("flowtoken: no token secret configured")
)

const prefix = "wf1."

// MaxLen bounds the length of a token Verify will look at, so an oversized
// string costs nothing to reject.
const MaxLen = 1024

// Claims is what a flow token says about itself.
type Claims struct {
	ID   string // random, 22 base64url characters; the storage key
	Flow string // the flow the token was issued for
	WAID string // the user's WhatsApp id, their phone number; empty when unknown
	// UserID is the user's business-scoped user id (BSUID), for a token
	// sent to a user known by it (protocol.md 4.2); empty when unknown.
	UserID    string
	IssuedAt  time.Time // second precision
	ExpiresAt time.Time // second precision
}

type payload struct {
	ID    string `json:"i"`
	Flow  string `json:"f"`
	WAID  string `json:"u,omitempty"`
	BSUID string `json:"b,omitempty"`
	Iat   int64  `json:"t"`
	Exp   int64  `json:"e"`
}

// Issuer signs and verifies flow tokens with server secrets.
type Issuer struct {
	secrets [][]byte
	// TTL is how long an issued token stays valid. WhatsApp lets a user open
	// a flow message for as long as the chat exists, so this is a business
	// choice; the default is 7 days.
	TTL time.Duration
	// Now returns the current time; time.Now when nil. Tests set it.
	Now func() time.Time
}

// DefaultTTL is the lifetime of tokens issued by an Issuer with no TTL.
const DefaultTTL = 7 * 24 * time.Hour

// NewIssuer returns an Issuer that signs with the first secret and accepts
// tokens signed with any of them (rotation). Empty secrets are ignored; with
// none left it returns ErrNoSecret.
func NewIssuer(secrets ...[]byte) (*Issuer, error) {
	iss := &Issuer{}
	for _, s := range secrets {
		if len(s) > 0 {
			iss.secrets = append(iss.secrets, append([]byte(nil), s...))
		}
	}
	if len(iss.secrets) == 0 {
		return nil, ErrNoSecret
	}
	return iss, nil
}

func (iss *Issuer) now() time.Time {
	if iss.Now != nil {
		return iss.Now()
	}
	return time.Now()
}

// Issue returns a new token for flow and the user waID, with its claims.
func (iss *Issuer) Issue(flow, waID string) (string, Claims, error) {
	return iss.IssueUser(flow, waID, "")
}

// IssueUser returns a new token for flow and the user known by the phone
// number waID, the business-scoped user id userID, or both (either may be
// empty), with its claims.
func (iss *Issuer) IssueUser(flow, waID, userID string) (string, Claims, error) {
	if iss == nil || len(iss.secrets) == 0 {
		return "", Claims{}, ErrNoSecret
	}
	if flow == "" {
		return "", Claims{}, errors.New("flowtoken: Issue needs a flow name")
	}
	var id [16]byte
	rand.Read(id[:])
	ttl := iss.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	now := iss.now().Truncate(time.Second)
	c := Claims{
		ID:        base64.RawURLEncoding.EncodeToString(id[:]),
		Flow:      flow,
		WAID:      waID,
		UserID:    userID,
		IssuedAt:  now,
		ExpiresAt: now.Add(ttl),
	}
	p, err := json.Marshal(payload{ID: c.ID, Flow: flow, WAID: waID, BSUID: userID, Iat: now.Unix(), Exp: c.ExpiresAt.Unix()})
	if err != nil {
		return "", Claims{}, err
	}
	head := prefix + base64.RawURLEncoding.EncodeToString(p)
	return head + "." + base64.RawURLEncoding.EncodeToString(mac(iss.secrets[0], head)), c, nil
}

func mac(secret []byte, head string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(head))
	return m.Sum(nil)
}

// Verify checks that token was signed by this issuer, has not expired and was
// issued for flow. It returns the claims, or ErrMalformed, ErrForged,
// ErrExpired or ErrWrongFlow. The claims are returned with ErrExpired and
// ErrWrongFlow, for logging.
func (iss *Issuer) Verify(token, flow string) (Claims, error) {
	c, err := iss.Parse(token)
	if err != nil {
		return c, err
	}
	if !iss.now().Before(c.ExpiresAt) {
		return c, ErrExpired
	}
	if c.Flow != flow {
		return c, fmt.Errorf("%w: token is for %q", ErrWrongFlow, c.Flow)
	}
	return c, nil
}

// Parse checks that token was signed by this issuer and returns its claims,
// whatever the flow and the expiry. It is for places that learn the flow
// from the token, such as a completion webhook, and judge the expiry against
// their own clock (the time the user completed the flow, not the time a
// retried webhook arrived). It returns ErrMalformed or ErrForged.
func (iss *Issuer) Parse(token string) (Claims, error) {
	if iss == nil || len(iss.secrets) == 0 {
		return Claims{}, ErrNoSecret
	}
	if len(token) > MaxLen || !strings.HasPrefix(token, prefix) {
		return Claims{}, ErrMalformed
	}
	dot := strings.LastIndexByte(token, '.')
	if dot <= len(prefix) {
		return Claims{}, ErrMalformed
	}
	head, sig64 := token[:dot], token[dot+1:]
	sig, err := decode64(sig64)
	if err != nil || len(sig) != sha256.Size {
		return Claims{}, ErrMalformed
	}
	ok := false
	for _, s := range iss.secrets {
		if hmac.Equal(mac(s, head), sig) {
			ok = true
		}
	}
	if !ok {
		return Claims{}, ErrForged
	}
	return parseHead(head)
}

// decode64 decodes unpadded base64url with one spelling per value: Go's
// decoder skips CR and LF and ignores the unused bits of the last
// character, so without these checks "ab\rc" and a last character off by
// one would verify as the same token, which a single-use check keyed on
// the token's text would count as another token.
func decode64(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, ErrMalformed
		}
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// parseHead decodes the claims of a token whose signature was checked.
func parseHead(head string) (Claims, error) {
	raw, err := decode64(head[len(prefix):])
	if err != nil {
		return Claims{}, ErrMalformed
	}
	var p payload
	if err := json.Unmarshal(raw, &p); err != nil || p.ID == "" || p.Flow == "" {
		return Claims{}, ErrMalformed
	}
	return Claims{ID: p.ID, Flow: p.Flow, WAID: p.WAID, UserID: p.BSUID, IssuedAt: time.Unix(p.Iat, 0), ExpiresAt: time.Unix(p.Exp, 0)}, nil
}

// A flow token comes back in every completion webhook, and the webhook is
// stored for processing. What is stored is Redact's form, never the token:
//
//	wf1.<base64url(payload)>.~<the first 22 characters of the signature>
//
// The payload (the id, the flow, the user, the times) is what processing
// needs and is no secret; the token store keeps the id already. The
// signature is cut to 22 characters (132 of its 256 bits), which is no
// credential (the endpoint and Parse want all of it, and the rest cannot
// be derived from the part) but still proves, to the holder of the secret,
// that the token was issued here: ParseRedacted recomputes the signature and
// compares its first 22 characters. The "~" is not a base64url character,
// so a redacted token is never taken for one in clear, and redacting a
// redacted token again gives one that never verifies.
//
// The migrations 005 of packages sqlite and postgres compute the same form
// in SQL for the rows stored before; change the three together.
const (
	redactMark = "~"
	redactLen  = 22
	// Redacted is the stored form of a flow_token that is not a waflow
	// token (WhatsApp's "unused", or another scheme's token): processing
	// only needs to know there was one.
	Redacted = "~"
)

// Redact returns the form of token that may be stored (see above): a string
// shaped as a waflow token (the prefix, a payload, a 43-character
// signature) with its signature cut, Redacted for any other non-empty
// string, and "" for "". It needs no secret, so the webhook receiver redacts a
// completion before it stores it.
func Redact(token string) string {
	if token == "" {
		return ""
	}
	dot := strings.LastIndexByte(token, '.')
	if len(token) > MaxLen || !strings.HasPrefix(token, prefix) || dot <= len(prefix) || len(token)-dot-1 != sigLen {
		return Redacted
	}
	return token[:dot+1] + redactMark + token[dot+1:dot+1+redactLen]
}

// sigLen is the length of a signature in base64url: 32 bytes.
const sigLen = 43

// IsRedacted reports whether s has the form Redact gives a waflow token.
func IsRedacted(s string) bool {
	dot := strings.LastIndexByte(s, '.')
	return dot > len(prefix) && strings.HasPrefix(s, prefix) && strings.HasPrefix(s[dot+1:], redactMark)
}

// ParseRedacted is Parse for a token Redact redacted: it checks that the
// signature's first characters are those of a token signed by this issuer
// and returns its claims, whatever the flow and the expiry. A token in clear
// is passed to Parse, so that events stored before tokens were redacted are
// still processed. It returns ErrMalformed or ErrForged.
func (iss *Issuer) ParseRedacted(r string) (Claims, error) {
	if iss == nil || len(iss.secrets) == 0 {
		return Claims{}, ErrNoSecret
	}
	if !IsRedacted(r) {
		return iss.Parse(r)
	}
	if len(r) > MaxLen {
		return Claims{}, ErrMalformed
	}
	dot := strings.LastIndexByte(r, '.')
	head, part := r[:dot], r[dot+1+len(redactMark):]
	if len(part) != redactLen {
		return Claims{}, ErrMalformed
	}
	ok := false
	for _, s := range iss.secrets {
		want := base64.RawURLEncoding.EncodeToString(mac(s, head))[:redactLen]
		if subtle.ConstantTimeCompare([]byte(want), []byte(part)) == 1 {
			ok = true
		}
	}
	if !ok {
		return Claims{}, ErrForged
	}
	return parseHead(head)
}
