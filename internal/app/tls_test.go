package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waflow/waflow/internal/tlsconf"
)

// With certificate files the app serves HTTPS, and its plain-HTTP
// listener redirects there.
func TestAppServesHTTPS(t *testing.T) {
	ts := httptest.NewTLSServer(nil) // for a certificate for 127.0.0.1
	cert := ts.TLS.Certificates[0]
	ts.Close()
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "c.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600)
	os.WriteFile(filepath.Join(dir, "k.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)

	cfg := testConfig(t)
	cfg.TLS = &tlsconf.Config{CertFile: filepath.Join(dir, "c.pem"), KeyFile: filepath.Join(dir, "k.pem")}
	a, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !a.HasTLS() {
		t.Fatal("HasTLS is false")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	httpLn, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.ServeWithHTTP(ctx, ln, httpLn) }()

	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	resp, err := client.Get("https://" + ln.Addr().String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "ready") {
		t.Fatalf("HTTPS /readyz: %d %q", resp.StatusCode, b)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get("http://" + httpLn.Addr().String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPermanentRedirect {
		t.Fatalf("plain HTTP: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ServeWithHTTP: %v", err)
	}
}

// With ACME domains on SQLite the certificates go to the cache folder;
// without one New refuses.
func TestAppACMECacheFolder(t *testing.T) {
	cfg := testConfig(t)
	cfg.TLS = &tlsconf.Config{Domains: []string{"flows.example.com"}}
	if _, err := New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "cache folder") {
		t.Fatalf("ACME without a cache folder: %v", err)
	}
	cfg = testConfig(t)
	cfg.TLS = &tlsconf.Config{Domains: []string{"flows.example.com"}}
	cfg.TLSCacheDir = filepath.Join(t.TempDir(), "tls")
	a, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
}
