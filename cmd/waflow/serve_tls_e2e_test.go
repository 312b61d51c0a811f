package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeSelfSigned writes a certificate for 127.0.0.1 with serial and its
// key to certFile and keyFile (modification time mtime), and returns the
// certificate.
func writeSelfSigned(t *testing.T, certFile, keyFile string, serial int64, mtime time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "waflow e2e"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.Chtimes(keyFile, mtime, mtime)
	os.Chtimes(certFile, mtime, mtime)
	c, _ := x509.ParseCertificate(der)
	return c
}

// waflow serve with WAFLOW_TLS_CERT_FILE/KEY_FILE speaks HTTPS (TLS 1.2
// at least), redirects plain HTTP on WAFLOW_HTTP_ADDR, and serves a
// renewed certificate written over the files without a restart.
func TestServeHTTPSWithCertificateFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs the waflow binary")
	}
	e := newE2EEnv(t, "")
	certFile, keyFile := filepath.Join(e.dir, "tls.crt"), filepath.Join(e.dir, "tls.key")
	first := writeSelfSigned(t, certFile, keyFile, 1, time.Now().Add(-time.Minute))
	e.extraEnv = []string{"WAFLOW_TLS_CERT_FILE=" + certFile, "WAFLOW_TLS_KEY_FILE=" + keyFile, "WAFLOW_HTTP_ADDR=127.0.0.1:0"}
	s := e.start()
	addr := strings.TrimPrefix(s.base, "http://")
	m := regexp.MustCompile(`http_addr=(\S+)`).FindStringSubmatch(s.Logs())
	if m == nil {
		t.Fatalf("no plain-HTTP address in the log:\n%s", s.Logs())
	}

	roots := x509.NewCertPool()
	roots.AddCert(first)
	served := func() (string, int) {
		t.Helper()
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
		resp, err := c.Get("https://" + addr + "/readyz")
		if err != nil {
			t.Fatalf("HTTPS: %v\n%s", err, s.Logs())
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.String(), resp.StatusCode
	}
	if serial, code := served(); serial != "1" || code != 200 {
		t.Fatalf("HTTPS /readyz: serial %s, status %d", serial, code)
	}
	if c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://" + m[1] + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPermanentRedirect || !strings.HasPrefix(resp.Header.Get("Location"), "https://127.0.0.1") {
		t.Fatalf("plain HTTP: %d %q, want a redirect to https", resp.StatusCode, resp.Header.Get("Location"))
	}

	roots.AddCert(writeSelfSigned(t, certFile, keyFile, 2, time.Now()))
	if serial, _ := served(); serial != "2" {
		t.Fatalf("after the files changed: serial %s, want 2", serial)
	}
	if !strings.Contains(s.Logs(), "tls: certificate reloaded") {
		t.Errorf("no reload in the log:\n%s", s.Logs())
	}
}

// On SIGTERM a replica first fails its readiness check while it still
// serves (WAFLOW_DRAIN_DELAY), so that a load balancer moves traffic
// away; a webhook received meanwhile is answered and processed before the
// process exits, and it exits within a bounded time.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs the waflow binary")
	}
	const drain = 2 * time.Second
	e := newE2EEnv(t, "")
	e.extraEnv = []string{"WAFLOW_DRAIN_DELAY=" + drain.String(), "WAFLOW_SHUTDOWN_TIMEOUT=5s"}
	s := e.start()
	get := func(path string) int {
		t.Helper()
		resp, err := http.Get(s.base + path)
		if err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, s.Logs())
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/readyz"); code != 200 {
		t.Fatalf("/readyz: %d", code)
	}
	stop := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	for get("/readyz") != http.StatusServiceUnavailable {
		if time.Since(stop) > drain/2 {
			t.Fatalf("/readyz still ready %v after SIGTERM\n%s", drain/2, s.Logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("/readyz 503 %v after SIGTERM", time.Since(stop).Round(time.Millisecond))
	// Still serving while draining.
	if code := get("/healthz"); code != 200 {
		t.Fatalf("/healthz while draining: %d", code)
	}
	code, wamid := s.complete("", "15550009999", map[string]any{"answer": "yes"})
	if code != 200 {
		t.Fatalf("a webhook while draining: %d", code)
	}
	select {
	case <-s.done:
	case <-time.After(drain + 5*time.Second + 35*time.Second):
		t.Fatalf("the replica did not exit in time\n%s", s.Logs())
	}
	took := time.Since(stop)
	if took < drain {
		t.Fatalf("exited %v after SIGTERM, before the drain delay %v", took, drain)
	}
	t.Logf("exited %v after SIGTERM", took.Round(time.Millisecond))
	if st := s.cmd.ProcessState; st == nil || !st.Success() {
		t.Fatalf("exit status %v\n%s", st, s.Logs())
	}
	// Processed by this replica before it exited, not left to another.
	ev, _ := e.waitHandled(wamid)
	if !ev.State.Final() {
		t.Fatalf("the webhook received while draining is %s", ev.State)
	}
	for _, want := range []string{"draining: /readyz answers 503", "shutting down: finishing requests in flight", "waflow: stopped"} {
		if !strings.Contains(s.Logs(), want) {
			t.Errorf("the log lacks %q:\n%s", want, s.Logs())
		}
	}
}
