package graph

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// SignatureStatus says whether Meta's signature over a phone number's
// business public key is valid (protocol.md 1.6).
type SignatureStatus string

// Signature statuses.
const (
	// SignatureValid means WhatsApp clients can encrypt to the key.
	SignatureValid SignatureStatus = "VALID"
	// SignatureMismatch means the signature does not match the key:
	// clients cannot use it; upload the key again.
	SignatureMismatch SignatureStatus = "MISMATCH"
)

// ErrNoPublicKey is returned by BusinessPublicKey when Meta has no business
// public key for the phone number.
var ErrNoPublicKey = errors.New("graph: no business public key is set for this phone number")

// BusinessPublicKey is the public key Meta holds for a phone number, which
// WhatsApp clients use to encrypt data-endpoint requests.
type BusinessPublicKey struct {
	PEM             string          `json:"business_public_key"` // SPKI "PUBLIC KEY" PEM
	SignatureStatus SignatureStatus `json:"business_public_key_signature_status"`
}

// SetBusinessPublicKey uploads the business public key of a phone number
// with POST /{PHONE_NUMBER_ID}/whatsapp_business_encryption
// (application/x-www-form-urlencoded business_public_key=PEM); Meta signs
// it on upload. publicKeyPEM must be an SPKI "BEGIN PUBLIC KEY" block of an
// RSA key: WhatsApp clients import exactly that form, not PKCS#1 "BEGIN RSA
// PUBLIC KEY" (protocol.md 1.6). Each phone number needs its own upload.
func (c *Client) SetBusinessPublicKey(ctx context.Context, phoneNumberID, publicKeyPEM string) error {
	op := "set business public key of phone number " + phoneNumberID
	if err := checkID("phone number ID", phoneNumberID); err != nil {
		return fmt.Errorf("graph: set business public key: %w", err)
	}
	if err := checkSPKI(publicKeyPEM); err != nil {
		return fmt.Errorf("graph: %s: %w", op, err)
	}
	form := url.Values{"business_public_key": {publicKeyPEM}}
	cl := &call{
		op: op, method: "POST", segments: []string{phoneNumberID, "whatsapp_business_encryption"},
		body: []byte(form.Encode()), contentType: "application/x-www-form-urlencoded",
	}
	return c.doSuccess(ctx, cl)
}

func checkSPKI(s string) error {
	block, rest := pem.Decode([]byte(strings.TrimSpace(s)))
	switch {
	case block == nil:
		return invalid("the public key is not PEM")
	case block.Type == "RSA PUBLIC KEY":
		return invalid(`the public key is PKCS#1 "RSA PUBLIC KEY"; WhatsApp needs SPKI "PUBLIC KEY" (openssl rsa -in private.pem -pubout)`)
	case block.Type != "PUBLIC KEY":
		return invalid("the PEM block is %q, want \"PUBLIC KEY\"", block.Type)
	case len(strings.TrimSpace(string(rest))) > 0:
		return invalid("the public key PEM has trailing data")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return invalid("the public key does not parse: %w", err)
	}
	if _, ok := k.(*rsa.PublicKey); !ok {
		return invalid("the public key is a %T, WhatsApp needs an RSA key", k)
	}
	return nil
}

// BusinessPublicKey returns the business public key Meta holds for a phone
// number, with its signature status, from GET
// /{PHONE_NUMBER_ID}/whatsapp_business_encryption. It returns
// ErrNoPublicKey when none is set.
//
// Meta documents two answer shapes, the fields at the top level and wrapped
// in "data": [{...}]; both are read.
func (c *Client) BusinessPublicKey(ctx context.Context, phoneNumberID string) (*BusinessPublicKey, error) {
	op := "get business public key of phone number " + phoneNumberID
	if err := checkID("phone number ID", phoneNumberID); err != nil {
		return nil, fmt.Errorf("graph: get business public key: %w", err)
	}
	var raw json.RawMessage
	cl := &call{op: op, method: "GET", segments: []string{phoneNumberID, "whatsapp_business_encryption"}}
	if err := c.do(ctx, cl, &raw); err != nil {
		return nil, err
	}
	var r struct {
		BusinessPublicKey
		Data []BusinessPublicKey `json:"data"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("graph: %s: %w: %w", op, ErrUnexpectedResponse, err)
	}
	k := r.BusinessPublicKey
	if len(r.Data) > 0 {
		k = r.Data[0]
	}
	if strings.TrimSpace(k.PEM) == "" {
		return nil, fmt.Errorf("graph: %s: %w", op, ErrNoPublicKey)
	}
	return &k, nil
}
