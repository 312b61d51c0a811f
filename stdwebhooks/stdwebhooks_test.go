package stdwebhooks_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/stdwebhooks"
)

// The Standard Webhooks test vector, which the specification's libraries
// (JavaScript, Python, Go, ...) all check.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func at(sec int64) func() time.Time { return func() time.Time { return time.Unix(sec, 0) } }

func TestSignVector(t *testing.T) {
	s, err := stdwebhooks.NewSigner(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Sign(vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorSignature {
		t.Errorf("Sign = %q, want %q", got, vectorSignature)
	}
	h := http.Header{}
	if err := s.SetHeaders(h, vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody)); err != nil {
		t.Fatal(err)
	}
	if h.Get("Webhook-Id") != vectorID || h.Get("webhook-timestamp") != "1614265330" || h.Get("webhook-signature") != vectorSignature {
		t.Errorf("headers %v", h)
	}
}

func TestVerify(t *testing.T) {
	v, err := stdwebhooks.NewVerifier(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	v.Now = at(vectorTimestamp + 10)
	other := stdwebhooks.NewSecret()
	otherSigner, _ := stdwebhooks.NewSigner(other)
	forged, _ := otherSigner.Sign(vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody))
	for _, c := range []struct {
		name        string
		id, ts, sig string
		body        string
		now         int64
		want        error
	}{
		{"the vector", vectorID, "1614265330", vectorSignature, vectorBody, vectorTimestamp + 10, nil},
		{"one of several signatures", vectorID, "1614265330", "v1a,abcd v1,bm90IGl0 " + vectorSignature, vectorBody, vectorTimestamp, nil},
		{"tampered body", vectorID, "1614265330", vectorSignature, `{"test": 2432232315}`, vectorTimestamp, stdwebhooks.ErrNoMatch},
		{"other id", "msg_other", "1614265330", vectorSignature, vectorBody, vectorTimestamp, stdwebhooks.ErrNoMatch},
		{"other timestamp", vectorID, "1614265331", vectorSignature, vectorBody, vectorTimestamp, stdwebhooks.ErrNoMatch},
		{"signed with another secret", vectorID, "1614265330", forged, vectorBody, vectorTimestamp, stdwebhooks.ErrNoMatch},
		{"v1a only", vectorID, "1614265330", "v1a," + strings.TrimPrefix(vectorSignature, "v1,"), vectorBody, vectorTimestamp, stdwebhooks.ErrNoMatch},
		{"not base64", vectorID, "1614265330", "v1,!!!", vectorBody, vectorTimestamp, stdwebhooks.ErrNoMatch},
		{"too old", vectorID, "1614265330", vectorSignature, vectorBody, vectorTimestamp + 301, stdwebhooks.ErrTimestamp},
		{"too new", vectorID, "1614265330", vectorSignature, vectorBody, vectorTimestamp - 301, stdwebhooks.ErrTimestamp},
		{"timestamp not a number", vectorID, "16142x", vectorSignature, vectorBody, vectorTimestamp, stdwebhooks.ErrTimestamp},
		{"no id", "", "1614265330", vectorSignature, vectorBody, vectorTimestamp, stdwebhooks.ErrMissingHeader},
		{"no timestamp", vectorID, "", vectorSignature, vectorBody, vectorTimestamp, stdwebhooks.ErrMissingHeader},
		{"unsigned", vectorID, "1614265330", "", vectorBody, vectorTimestamp, stdwebhooks.ErrMissingHeader},
		{"id with a dot", "msg.1", "1614265330", vectorSignature, vectorBody, vectorTimestamp, stdwebhooks.ErrInvalidID},
	} {
		t.Run(c.name, func(t *testing.T) {
			v.Now = at(c.now)
			h := http.Header{}
			for k, val := range map[string]string{stdwebhooks.HeaderID: c.id, stdwebhooks.HeaderTimestamp: c.ts, stdwebhooks.HeaderSignature: c.sig} {
				if val != "" {
					h.Set(k, val)
				}
			}
			err := v.Verify(h, []byte(c.body))
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

// TestRotation: a signer with two secrets is verified by a receiver that
// knows either.
func TestRotation(t *testing.T) {
	oldS, newS := stdwebhooks.NewSecret(), stdwebhooks.NewSecret()
	s, err := stdwebhooks.NewSigner(newS, oldS)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	body := []byte(`{"a":1}`)
	id := stdwebhooks.NewID()
	sig, err := s.Sign(id, now, body)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(sig)); n != 2 {
		t.Fatalf("%d signatures, want 2: %q", n, sig)
	}
	for _, secret := range []string{oldS, newS} {
		v, _ := stdwebhooks.NewVerifier(secret)
		if err := v.VerifyValues(id, strconv.FormatInt(now.Unix(), 10), sig, body); err != nil {
			t.Errorf("verifier with one of the secrets: %v", err)
		}
	}
	if _, err := s.Sign("a.b", now, body); !errors.Is(err, stdwebhooks.ErrInvalidID) {
		t.Errorf("Sign with a '.' in the id: %v", err)
	}
}

func TestParseSecret(t *testing.T) {
	k, err := stdwebhooks.ParseSecret(vectorSecret)
	if err != nil || len(k) != 24 {
		t.Fatalf("ParseSecret(vector) = %d bytes, %v", len(k), err)
	}
	if _, err := stdwebhooks.ParseSecret(strings.TrimPrefix(vectorSecret, "whsec_")); err != nil {
		t.Errorf("without the prefix: %v", err)
	}
	for _, bad := range []string{"", "whsec_", "whsec_c2hvcnQ=", "whsec_not base64!"} {
		if _, err := stdwebhooks.ParseSecret(bad); !errors.Is(err, stdwebhooks.ErrSecret) {
			t.Errorf("ParseSecret(%q) = %v, want ErrSecret", bad, err)
		} else if strings.Contains(err.Error(), "c2hvcnQ") {
			t.Errorf("the error quotes the secret: %v", err)
		}
	}
	if _, err := stdwebhooks.NewSigner(); !errors.Is(err, stdwebhooks.ErrSecret) {
		t.Errorf("NewSigner() = %v", err)
	}
	if a, b := stdwebhooks.NewSecret(), stdwebhooks.NewSecret(); a == b || !strings.HasPrefix(a, "whsec_") {
		t.Errorf("NewSecret: %q %q", a, b)
	}
	if a, b := stdwebhooks.NewID(), stdwebhooks.NewID(); a == b || strings.ContainsAny(a, ". ") {
		t.Errorf("NewID: %q %q", a, b)
	}
}

// FuzzVerify: any header values and body are refused or accepted without a
// panic, and only a signature the secret made is accepted.
func FuzzVerify(f *testing.F) {
	f.Add(vectorID, "1614265330", vectorSignature, []byte(vectorBody))
	f.Add("msg_1", "-1", "v1, v1,,  v1a,x", []byte{})
	f.Add("m", "99999999999999999999", "v2,abc", []byte("{}"))
	v, _ := stdwebhooks.NewVerifier(vectorSecret)
	v.Now = at(vectorTimestamp)
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		err := v.VerifyValues(id, ts, sig, body)
		if err == nil && !(id == vectorID && ts == "1614265330" && string(body) == vectorBody) {
			t.Errorf("accepted id %q ts %q sig %q body %q", id, ts, sig, body)
		}
	})
}
