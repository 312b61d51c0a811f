package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/forward"
	"github.com/waflow/waflow/internal/vectors"
	"github.com/waflow/waflow/media"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/stdwebhooks"
)

const folderMedia = `{"version":"7.2","data_api_version":"3.0","routing_model":{"DOCS":[]},"screens":[{"id":"DOCS","title":"Receipts","terminal":true,
 "data":{"doc_errors":{"type":"object","properties":{},"__example__":{"m1":"Too large"}}},
 "layout":{"type":"SingleColumnLayout","children":[
 {"type":"DocumentPicker","name":"docs","label":"Receipts","allowed-mime-types":["image/jpeg"],"error-message":"${data.doc_errors}"},
 {"type":"Footer","label":"Send","on-click-action":{"name":"data_exchange","payload":{"receipts":"${form.docs}"}}}]}}]}`

// Through `waflow serve`: a folder flow's DocumentPicker file (WhatsApp's
// real vector, on a fake CDN) is received, kept in the database, and the
// backend gets its description and a signed URL from which it fetches the
// exact plaintext.
func TestForwardedMediaEndToEnd(t *testing.T) {
	var meta media.EncryptionMetadata
	if err := json.Unmarshal(vectors.Read(t, "media_encryption_metadata.json"), &meta); err != nil {
		t.Fatal(err)
	}
	cdnFile, plain := vectors.Read(t, "media_cdn_file.bin"), vectors.Read(t, "media_plaintext.jpg")
	cdn := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(cdnFile) }))
	defer cdn.Close()

	secret := stdwebhooks.NewSecret()
	verifier, _ := stdwebhooks.NewVerifier(secret)
	var mu sync.Mutex
	var got []forward.File
	var fetched []byte
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verifier.Verify(r.Header, body); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var req forward.Request
		json.Unmarshal(body, &req)
		if bytes.Contains(body, []byte(meta.EncryptionKey)) || bytes.Contains(body, []byte(cdn.URL)) {
			t.Error("the backend got the file's key or its CDN URL")
		}
		files := req.Media["receipts"]
		var b []byte
		if len(files) == 1 {
			resp, err := http.Get(files[0].URL)
			if err == nil {
				b, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
		}
		mu.Lock()
		got, fetched = files, b
		mu.Unlock()
		io.WriteString(w, `{"screen":"SUCCESS","data":{"extension_message_response":{"params":{"ok":true}}}}`)
	}))
	defer backend.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := testConfig(t)
	cfg.Preview = false
	cfg.Media = MediaConfig{PublicURL: base, AllowedHosts: []string{"127.0.0.1"}, HTTPClient: cdn.Client()}
	cfg.FlowsDir = writeFlows(t, map[string]string{
		"receipts.json":        folderMedia,
		"receipts.waflow.json": `{"backend": {"url": "` + backend.URL + `", "secret_env": "S", "tokens": "backend"}}`,
	})
	cfg.Getenv = func(string) string { return secret }
	a, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go a.Serve(ctx, ln)

	msg, _ := json.Marshal(map[string]any{"version": "3.0", "action": "data_exchange", "screen": "DOCS", "flow_token": "crm-1",
		"data": map[string]any{"receipts": []any{map[string]any{"media_id": "790aba14", "cdn_url": cdn.URL + "/v/f.enc", "file_name": "IMG_5237.jpg",
			"encryption_metadata": meta}}}})
	body, sess, err := envelope.EncryptRequest(&cfg.PrivateKeys[0].PublicKey, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/flows/receipts", bytes.NewReader(body))
	req.Header.Set(signature.Header, signature.Sign(cfg.AppSecrets[0], body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	answer, err := sess.DecryptResponse(raw)
	if resp.StatusCode != 200 || err != nil || !bytes.Contains(answer, []byte(`"screen":"SUCCESS"`)) {
		t.Fatalf("answer: %d %s %v", resp.StatusCode, answer, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].MediaID != "790aba14" || got[0].Key != media.Key(plain) || got[0].MIMEType != "image/jpeg" || got[0].Size != len(plain) {
		t.Fatalf("backend got media %+v", got)
	}
	if !bytes.Equal(fetched, plain) {
		t.Fatalf("the backend fetched %d bytes from its URL, want media_plaintext.jpg (%d bytes)", len(fetched), len(plain))
	}
	if b, err := a.mediaStore.Get(t.Context(), media.Key(plain)); err != nil || !bytes.Equal(b, plain) {
		t.Fatalf("the database does not hold the file: %v", err)
	}
	mresp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer mresp.Body.Close()
	if m, _ := io.ReadAll(mresp.Body); !bytes.Contains(m, []byte(`waflow_media_files_total{flow="receipts",result="stored"} 1`+"\n")) {
		t.Errorf("/metrics does not count the stored file:\n%s", grepLines(string(m), "waflow_media"))
	}
}
