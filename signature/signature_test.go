package signature_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/waflow/waflow/internal/vectors"
	"github.com/waflow/waflow/signature"
)

// TestMetaWebhookVector checks the signature WhatsApp sent for a real webhook
// (protocol.md 8.3), and that one changed byte of body or signature fails it.
func TestMetaWebhookVector(t *testing.T) {
	body := vectors.Read(t, "webhook_body.json")
	secret := bytes.TrimSpace(vectors.Read(t, "webhook_app_secret.txt"))
	header := strings.TrimSpace(string(vectors.Read(t, "webhook_signature.txt")))

	if err := signature.Verify(body, header, secret); err != nil {
		t.Fatalf("Verify(real webhook) = %v, want nil", err)
	}
	if got := signature.Sign(secret, body); got != header {
		t.Fatalf("Sign(real webhook) = %s, want %s", got, header)
	}
	for i := range body {
		b := bytes.Clone(body)
		b[i] ^= 0x01
		if err := signature.Verify(b, header, secret); !errors.Is(err, signature.ErrMismatch) {
			t.Fatalf("body byte %d flipped: Verify = %v, want ErrMismatch", i, err)
		}
	}
	for i := len("sha256="); i < len(header); i++ {
		h := []byte(header)
		if h[i] == '0' {
			h[i] = '1'
		} else {
			h[i] = '0'
		}
		if err := signature.Verify(body, string(h), secret); !errors.Is(err, signature.ErrMismatch) {
			t.Fatalf("signature digit %d changed: Verify = %v, want ErrMismatch", i, err)
		}
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account"}`)
	current, previous := []byte("current-secret"), []byte("previous-secret")
	good := signature.Sign(current, body)
	old := signature.Sign(previous, body)
	tests := []struct {
		name    string
		body    []byte
		header  string
		secrets [][]byte
		want    error
	}{
		{"current secret", body, good, [][]byte{current, previous}, nil},
		{"previous secret during rotation", body, old, [][]byte{current, previous}, nil},
		{"previous secret after rotation", body, old, [][]byte{current}, signature.ErrMismatch},
		{"uppercase hex and prefix", body, "SHA256=" + strings.ToUpper(good[7:]), [][]byte{current}, nil},
		{"no secret", body, good, nil, signature.ErrNoSecret},
		{"only empty secrets", body, good, [][]byte{{}, nil}, signature.ErrNoSecret},
		{"missing header", body, "", [][]byte{current}, signature.ErrNotSigned},
		{"sha1 header", body, "sha1=" + good[7:47], [][]byte{current}, signature.ErrMalformed},
		{"no prefix", body, good[7:], [][]byte{current}, signature.ErrMalformed},
		{"short digest", body, good[:len(good)-2], [][]byte{current}, signature.ErrMalformed},
		{"long digest", body, good + "00", [][]byte{current}, signature.ErrMalformed},
		{"not hex", body, "sha256=" + strings.Repeat("zz", 32), [][]byte{current}, signature.ErrMalformed},
		{"signature of another body", []byte(`{}`), good, [][]byte{current}, signature.ErrMismatch},
		{"empty body", nil, good, [][]byte{current}, signature.ErrMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := signature.Verify(tt.body, tt.header, tt.secrets...)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestZeroVerifierFailsClosed(t *testing.T) {
	var v *signature.Verifier
	if err := v.Verify([]byte("x"), signature.Sign([]byte("k"), []byte("x"))); !errors.Is(err, signature.ErrNoSecret) {
		t.Fatalf("nil Verifier: %v, want ErrNoSecret", err)
	}
	if err := new(signature.Verifier).Verify([]byte("x"), "sha256=00"); !errors.Is(err, signature.ErrNoSecret) {
		t.Fatalf("zero Verifier: %v, want ErrNoSecret", err)
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{"", "sha256=", "sha256=" + strings.Repeat("ab", 32), "SHA256=" + strings.Repeat("AB", 32), "sha1=abc", "sha256=" + strings.Repeat("g", 64)} {
		f.Add(s)
	}
	secret := []byte("fuzz")
	f.Fuzz(func(t *testing.T, h string) {
		mac, err := signature.ParseHeader(h)
		if err != nil {
			if !errors.Is(err, signature.ErrNotSigned) && !errors.Is(err, signature.ErrMalformed) {
				t.Fatalf("ParseHeader(%q) = unexpected error %v", h, err)
			}
			return
		}
		if len(mac) != 32 {
			t.Fatalf("ParseHeader(%q) = %d bytes", h, len(mac))
		}
		// A header that parses verifies only if it is the real signature.
		err = signature.Verify([]byte(h), h, secret)
		if want := strings.EqualFold(signature.Sign(secret, []byte(h)), h); (err == nil) != want {
			t.Fatalf("Verify(%q) = %v, want ok=%v", h, err, want)
		}
	})
}

// TestVerifyConcurrent checks the pooled HMAC states under concurrent use:
// each verification sees only its own body.
func TestVerifyConcurrent(t *testing.T) {
	v, _ := signature.New([]byte("a"), []byte("b"))
	done := make(chan error)
	for g := range 8 {
		go func() {
			var err error
			for i := range 500 {
				body := []byte(strings.Repeat("x", g*31+i))
				secret := []byte{"ab"[i%2]}
				if e := v.Verify(body, signature.Sign(secret, body)); e != nil {
					err = e
				}
				if e := v.Verify(append(body, 'y'), signature.Sign(secret, body)); !errors.Is(e, signature.ErrMismatch) {
					err = e
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	v, _ := signature.New([]byte("app-secret"))
	body := []byte(strings.Repeat("x", 600))
	h := signature.Sign([]byte("app-secret"), body)
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(body, h); err != nil {
			b.Fatal(err)
		}
	}
}

// VerifyMAC checks a raw HMAC-SHA256 (the flow_token_signature JWT's) under
// every configured secret, so one Verifier serves both app-secret checks.
func TestVerifyMAC(t *testing.T) {
	v, err := signature.New([]byte("new"), []byte("old"))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("header.payload")
	for _, secret := range []string{"new", "old"} {
		mac, _ := signature.ParseHeader(signature.Sign([]byte(secret), msg))
		if !v.VerifyMAC(msg, mac) {
			t.Errorf("a MAC under %q does not verify", secret)
		}
		if v.VerifyMAC([]byte("header.other"), mac) {
			t.Errorf("a MAC under %q verifies another message", secret)
		}
	}
	other, _ := signature.ParseHeader(signature.Sign([]byte("other"), msg))
	if v.VerifyMAC(msg, other) || v.VerifyMAC(msg, nil) {
		t.Error("a MAC under another secret, or none, verifies")
	}
	var zero *signature.Verifier
	if zero.VerifyMAC(msg, other) || (&signature.Verifier{}).VerifyMAC(msg, other) {
		t.Error("a verifier without secrets verifies a MAC")
	}
}
