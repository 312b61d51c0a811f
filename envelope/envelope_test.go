package envelope_test

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/internal/testkeys"
	"github.com/waflow/waflow/internal/vectors"
	"github.com/waflow/waflow/keys"
)

func vectorKeys(t *testing.T) *envelope.PrivateKeys {
	t.Helper()
	k, err := keys.ParsePrivateKey(vectors.Read(t, "private_key.pem"), []byte("pywa"))
	if err != nil {
		t.Fatal(err)
	}
	pk, err := envelope.NewPrivateKeys(k)
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// TestMetaVectors opens a request exactly as WhatsApp sent it and seals a
// response that must match WhatsApp's expected bytes (protocol.md 8.2).
func TestMetaVectors(t *testing.T) {
	pk := vectorKeys(t)
	plain, resp, err := envelope.Open(vectors.Read(t, "request.json"), pk)
	if err != nil {
		t.Fatalf("Open(request.json): %v", err)
	}
	if want := vectors.Read(t, "request_plaintext.json"); !bytes.Equal(plain, want) {
		t.Fatalf("plaintext = %s\nwant       %s", plain, want)
	}
	got := resp.Seal(vectors.Read(t, "response_plaintext.json"))
	if want := bytes.TrimSpace(vectors.Read(t, "response_body.txt")); !bytes.Equal(got, want) {
		t.Fatalf("sealed response = %s\nwant            %s", got, want)
	}
	// The derived vectors of protocol.md 8.2, same key and IV.
	for plain, want := range map[string]string{
		`{"data":{"status":"active"}}`:                      "FBE6U7vTuTzHt6CnPa2OaL0uzA8XpaZ9u7XioH4nAJ4lJwsJFim9jxuJFjs=",
		`{"data":{"acknowledged":true}}`:                    "FBE6U7vTuTzHt7KwN7eUbPNxigkRte0xquXquCUmTZiQTGeh+czhV5c/xLCYCA==",
		`{"error_msg":"The order has already been placed"}`: "FBE7QL3d6VnR5rTxZvuvc/o0gRwQtL0rtvbs/Tk3nedJrK3LDKiI7jb15D0xxWTpYZ3hIznJwmTVCrhLtOClwaI=",
	} {
		if got := string(resp.Seal([]byte(plain))); got != want {
			t.Errorf("Seal(%s) = %s, want %s", plain, got, want)
		}
	}
	// NewResponder with the derived key and IV gives the same bytes.
	key, _ := hex.DecodeString("712727b6b509f2e1ba62d9b91989ecc3")
	var req envelope.Body
	json.Unmarshal(vectors.Read(t, "request.json"), &req)
	iv, _ := base64.StdEncoding.DecodeString(req.InitialVector)
	r2, err := envelope.NewResponder(key, iv)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r2.Seal(vectors.Read(t, "response_plaintext.json")), got) {
		t.Fatal("NewResponder(derived key, IV) seals differently from Open's Responder")
	}
}

var (
	genOnce    sync.Once
	keyA, keyB *rsa.PrivateKey
	genErr     error
)

func twoKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	genOnce.Do(func() {
		keyA, keyB = testkeys.Key(0), testkeys.Key(1)
	})
	if genErr != nil {
		t.Fatal(genErr)
	}
	return keyA, keyB
}

func TestClientRoundTripAndRotation(t *testing.T) {
	current, previous := twoKeys(t)
	body, sess, err := envelope.EncryptRequest(&previous.PublicKey, []byte(`{"action":"ping","version":"3.0"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	only, _ := envelope.NewPrivateKeys(current)
	if _, _, err := envelope.Open(body, only); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("Open with the other key = %v, want ErrDecrypt", err)
	}
	both, _ := envelope.NewPrivateKeys(current, previous)
	plain, resp, err := envelope.Open(body, both)
	if err != nil {
		t.Fatalf("Open during rotation: %v", err)
	}
	if string(plain) != `{"action":"ping","version":"3.0"}` {
		t.Fatalf("plaintext %s", plain)
	}
	answer, err := sess.DecryptResponse(resp.Seal([]byte(`{"data":{"status":"active"}}`)))
	if err != nil || string(answer) != `{"data":{"status":"active"}}` {
		t.Fatalf("client DecryptResponse = %s, %v", answer, err)
	}
	// A response sealed with the request IV itself (not flipped) does not
	// open: that is the mistake of implementations that reuse the IV.
	aesKey, iv := bytes.Repeat([]byte{7}, 16), bytes.Repeat([]byte{9}, 16)
	_, sess3, _ := envelope.EncryptRequestWithKey(&current.PublicKey, aesKey, iv, []byte(`{}`), nil)
	flipped := make([]byte, 16)
	for i := range iv {
		flipped[i] = ^iv[i]
	}
	unflipped, _ := envelope.NewResponder(aesKey, flipped) // flips back to iv
	if _, err := sess3.DecryptResponse(unflipped.Seal([]byte(`{}`))); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("answer under the unflipped IV: %v, want ErrDecrypt", err)
	}
	right, _ := envelope.NewResponder(aesKey, iv)
	if got, err := sess3.DecryptResponse(right.Seal([]byte(`{}`))); err != nil || string(got) != "{}" {
		t.Fatalf("answer under the flipped IV: %s, %v", got, err)
	}
	// Any other responder (another request's key) fails with ErrDecrypt.
	body2, _, _ := envelope.EncryptRequest(&current.PublicKey, []byte(`{}`), nil)
	_, resp2, err := envelope.Open(body2, both)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.DecryptResponse(resp2.Seal([]byte(`{}`))); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("DecryptResponse of another request's answer = %v, want ErrDecrypt", err)
	}
}

// mutate returns body with one JSON field replaced.
func mutate(t *testing.T, body []byte, f func(r *envelope.Body)) []byte {
	t.Helper()
	var r envelope.Body
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	f(&r)
	b, _ := json.Marshal(r)
	return b
}

func flipByte(t *testing.T, b64 string, i int) string {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	if i < 0 {
		i += len(b)
	}
	b[i] ^= 0x01
	return base64.StdEncoding.EncodeToString(b)
}

func TestOpenErrorClasses(t *testing.T) {
	k, other := twoKeys(t)
	pk, _ := envelope.NewPrivateKeys(k)
	good, _, err := envelope.EncryptRequest(&k.PublicKey, []byte(`{"action":"INIT"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, _, _ := envelope.EncryptRequest(&other.PublicKey, []byte(`{"action":"INIT"}`), nil)
	tests := []struct {
		name string
		body []byte
		want error
		msg  string // part of the error text
	}{
		{"wrong public key", wrongKey, envelope.ErrDecrypt, "does not decrypt with the configured private key"},
		{"tampered tag", mutate(t, good, func(r *envelope.Body) { r.EncryptedFlowData = flipByte(t, r.EncryptedFlowData, -1) }), envelope.ErrDecrypt, "authentication failed"},
		{"tampered ciphertext", mutate(t, good, func(r *envelope.Body) { r.EncryptedFlowData = flipByte(t, r.EncryptedFlowData, 0) }), envelope.ErrDecrypt, "authentication failed"},
		{"tampered wrapped key", mutate(t, good, func(r *envelope.Body) { r.EncryptedAESKey = flipByte(t, r.EncryptedAESKey, 10) }), envelope.ErrDecrypt, "does not decrypt"},
		{"other IV", mutate(t, good, func(r *envelope.Body) { r.InitialVector = flipByte(t, r.InitialVector, 0) }), envelope.ErrDecrypt, "authentication failed"},
		{"12-byte IV", mutate(t, good, func(r *envelope.Body) { r.InitialVector = base64.StdEncoding.EncodeToString(make([]byte, 12)) }), envelope.ErrMalformed, "initial_vector is 12 bytes, want 16"},
		{"truncated IV", mutate(t, good, func(r *envelope.Body) { r.InitialVector = r.InitialVector[:12] }), envelope.ErrMalformed, "initial_vector is 9 bytes"},
		{"bad base64", mutate(t, good, func(r *envelope.Body) { r.EncryptedFlowData = "%%%" + r.EncryptedFlowData }), envelope.ErrMalformed, "encrypted_flow_data is not standard base64"},
		{"URL-safe base64", mutate(t, good, func(r *envelope.Body) {
			r.EncryptedAESKey = strings.NewReplacer("+", "-", "/", "_").Replace(r.EncryptedAESKey)
		}), envelope.ErrMalformed, "encrypted_aes_key is not standard base64"},
		{"missing key", mutate(t, good, func(r *envelope.Body) { r.EncryptedAESKey = "" }), envelope.ErrMalformed, "missing encrypted_aes_key"},
		{"all missing", []byte(`{}`), envelope.ErrMalformed, "missing encrypted_flow_data\nmissing encrypted_aes_key\nmissing initial_vector"},
		{"short wrapped key", mutate(t, good, func(r *envelope.Body) { r.EncryptedAESKey = base64.StdEncoding.EncodeToString(make([]byte, 128)) }), envelope.ErrMalformed, "encrypted_aes_key is 128 bytes"},
		{"ciphertext shorter than tag", mutate(t, good, func(r *envelope.Body) { r.EncryptedFlowData = "AAAA" }), envelope.ErrMalformed, "shorter than the 16-byte GCM tag"},
		{"not JSON", []byte("encrypted_flow_data=abc"), envelope.ErrMalformed, "not a JSON object"},
		{"JSON array", []byte(`["a","b","c"]`), envelope.ErrMalformed, "not a JSON object"},
		{"field of wrong type", []byte(`{"encrypted_flow_data":1,"encrypted_aes_key":"","initial_vector":""}`), envelope.ErrMalformed, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := envelope.Open(tt.body, pk)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %q, want it to say %q", err, tt.msg)
			}
		})
	}
	if _, _, err := envelope.Open(good, pk); err != nil {
		t.Fatalf("the unmodified request fails: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	k, _ := twoKeys(f)
	pk, _ := envelope.NewPrivateKeys(k)
	good, _, _ := envelope.EncryptRequest(&k.PublicKey, []byte(`{"action":"ping"}`), nil)
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"encrypted_flow_data":"AAAAAAAAAAAAAAAAAAAAAA==","encrypted_aes_key":"AAAA","initial_vector":"AAAAAAAAAAAAAAAAAAAAAA=="}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		plain, resp, err := envelope.Open(body, pk)
		if err != nil {
			if !errors.Is(err, envelope.ErrMalformed) && !errors.Is(err, envelope.ErrDecrypt) {
				t.Fatalf("error outside both classes: %v", err)
			}
			return
		}
		if resp == nil || plain == nil {
			t.Fatal("nil plaintext or responder without error")
		}
	})
}
