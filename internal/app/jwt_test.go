package app

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/signature"
)

// Issue 19 item 4, through `waflow serve`: a Data API 4.0 request whose
// flow_token_signature does not verify under the app secret is counted in
// waflow_endpoint_token_signatures_total{result="bad_hmac"}, and so is one
// without a signature (result="missing").
func TestTokenSignatureCounted(t *testing.T) {
	cfg := testConfig(t)
	cfg.Preview = false
	a, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go a.Serve(t.Context(), ln)
	base := "http://" + ln.Addr().String()
	path := a.EndpointPaths()[0]
	flow := strings.TrimPrefix(path, "/flows/")
	send := func(msg map[string]any) int {
		plain, _ := json.Marshal(msg)
		body, _, err := envelope.EncryptRequest(&cfg.PrivateKeys[0].PublicKey, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
		req.Header.Set(signature.Header, signature.Sign(cfg.AppSecrets[0], body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// An unknown flow token: 427 from the token check, after the
	// signature was counted.
	bad := flowtoken.SignJWT("tok", []byte("not the app secret"), time.Now().Add(time.Minute))
	for range 2 {
		send(map[string]any{"version": "4.0", "action": "INIT", "flow_token": "tok", "flow_token_signature": bad})
	}
	send(map[string]any{"version": "4.0", "action": "INIT", "flow_token": "tok"})
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`waflow_endpoint_token_signatures_total{flow="` + flow + `",result="bad_hmac"} 2`,
		`waflow_endpoint_token_signatures_total{flow="` + flow + `",result="missing"} 1`,
	} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
