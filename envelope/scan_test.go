package envelope

import (
	"encoding/json"
	"testing"

	"github.com/waflow/waflow/internal/vectors"
)

// TestScanFieldsTakesWhatWhatsAppSends checks that the bodies WhatsApp and
// our client send take the fast path, and that other shapes fall back.
func TestScanFieldsTakesWhatWhatsAppSends(t *testing.T) {
	real := vectors.Read(t, "request.json")
	if _, ok := scanFields(real); !ok {
		t.Errorf("WhatsApp's request.json does not take the fast path")
	}
	for _, tt := range []struct {
		body string
		ok   bool
	}{
		{`{"encrypted_flow_data":"AAAA","encrypted_aes_key":"BBBB","initial_vector":"CCCC"}`, true},
		{" {\n  \"initial_vector\" : \"C+/=\",\r\n\t\"encrypted_aes_key\": \"\"\n}\n", true},
		{`{}`, true},
		{`{"encrypted_flow_data":"AAAA","extra":"x"}`, false},
		{`{"encrypted_flow_data":"AAAA","encrypted_flow_data":"BBBB"}`, false},
		{`{"encrypted_flow_data":"AA\/A"}`, false},
		{`{"Encrypted_Flow_Data":"AAAA"}`, false},
		{`{"encrypted_flow_data":null}`, false},
		{`{"encrypted_flow_data":"AAAA",}`, false},
		{`{"encrypted_flow_data":"AAAA"} x`, false},
		{`{"encrypted_flow_data":"AAAA"`, false},
		{`{"encrypted_flow_data" "AAAA"}`, false},
		{``, false},
	} {
		if _, ok := scanFields([]byte(tt.body)); ok != tt.ok {
			t.Errorf("scanFields(%q) ok = %v, want %v", tt.body, ok, tt.ok)
		}
	}
}

// FuzzScanFields checks the fast path against encoding/json: whatever it
// accepts, json.Unmarshal accepts with the same three values.
func FuzzScanFields(f *testing.F) {
	f.Add([]byte(`{"encrypted_flow_data":"AAAA","encrypted_aes_key":"BBBB","initial_vector":"CCCC"}`))
	f.Add([]byte(" {\n \"initial_vector\" : \"C+/=\" }\n"))
	f.Add([]byte(`{"encrypted_flow_data":"AAAA","encrypted_flow_data":"BBBB"}`))
	f.Add([]byte(`{"encrypted_aes_key":"","initial_vector":"\u0041"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := scanFields(body)
		if !ok {
			return
		}
		var want Request
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("scanFields accepts %q, json.Unmarshal rejects it: %v", body, err)
		}
		if string(got.flowData) != want.EncryptedFlowData || string(got.aesKey) != want.EncryptedAESKey || string(got.iv) != want.InitialVector {
			t.Fatalf("scanFields(%q) = %q %q %q, json.Unmarshal %+v", body, got.flowData, got.aesKey, got.iv, want)
		}
	})
}
