package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// selfSigned makes a certificate for names (DNS names or IP addresses),
// with serial, and its key, PEM-encoded.
func selfSigned(t *testing.T, serial int64, names ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true,

		BasicConstraintsValid: true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// serveTLS serves "hello" over TLS with cfg on 127.0.0.1 and returns the
// address.
func serveTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(quiet().Handler(), slog.LevelWarn),
	}
	srv.TLSConfig = cfg
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// servedSerial connects to addr with name and returns the serial of the
// certificate it is served, verified against roots.
func servedSerial(t *testing.T, addr, name string, roots *x509.CertPool) (string, error) {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{ServerName: name, RootCAs: roots})
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String(), nil
}

// Certificate files made elsewhere are served, and served anew once they
// change on disk; a pair that does not load leaves the previous one in
// service.
func TestCertificateFilesReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	// Each write gets a later modification time: a coarse file system
	// clock must not hide a change.
	mtime := time.Now().Add(-time.Hour)
	write := func(path string, b []byte) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		mtime = mtime.Add(time.Second)
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	c1, k1 := selfSigned(t, 1, "flows.example.com", "127.0.0.1")
	write(certFile, c1)
	write(keyFile, k1)
	certs, err := New(Config{CertFile: certFile, KeyFile: keyFile, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, certs.TLSConfig())
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(c1)
	if s, err := servedSerial(t, addr, "flows.example.com", roots); err != nil || s != "1" {
		t.Fatalf("first certificate: serial %s, %v", s, err)
	}

	c2, k2 := selfSigned(t, 2, "flows.example.com")
	roots.AppendCertsFromPEM(c2)
	// A certificate written without its key yet: still the first one.
	write(certFile, c2)
	if s, err := servedSerial(t, addr, "flows.example.com", roots); err != nil || s != "1" {
		t.Fatalf("half-written pair: serial %s, %v; want the previous certificate", s, err)
	}
	write(keyFile, k2)
	if s, err := servedSerial(t, addr, "flows.example.com", roots); err != nil || s != "2" {
		t.Fatalf("after the renewal: serial %s, %v; want 2", s, err)
	}
}

// TLS 1.0 and 1.1 are refused.
func TestMinimumVersion(t *testing.T) {
	dir := t.TempDir()
	c, k := selfSigned(t, 1, "flows.example.com")
	os.WriteFile(filepath.Join(dir, "c"), c, 0o600)
	os.WriteFile(filepath.Join(dir, "k"), k, 0o600)
	certs, err := New(Config{CertFile: filepath.Join(dir, "c"), KeyFile: filepath.Join(dir, "k"), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, certs.TLSConfig())
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		if err == nil {
			conn.Close()
			t.Errorf("a TLS %x handshake succeeded", v)
		}
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		if err != nil {
			t.Errorf("TLS %x: %v", v, err)
			continue
		}
		conn.Close()
	}
}

func TestNewRefuses(t *testing.T) {
	dir := t.TempDir()
	c, k := selfSigned(t, 1, "flows.example.com")
	os.WriteFile(filepath.Join(dir, "c"), c, 0o600)
	os.WriteFile(filepath.Join(dir, "k"), k, 0o600)
	cache := mapCache{}
	for name, tt := range map[string]struct {
		cfg  Config
		want string
	}{
		"nothing":         {Config{}, "no ACME domains and no certificate files"},
		"both":            {Config{Domains: []string{"a.example"}, CertFile: "c", KeyFile: "k"}, "use one"},
		"cert only":       {Config{CertFile: "c"}, "needs its key file"},
		"missing files":   {Config{CertFile: filepath.Join(dir, "nope"), KeyFile: filepath.Join(dir, "k")}, "nope"},
		"key of another":  {Config{CertFile: filepath.Join(dir, "c"), KeyFile: filepath.Join(dir, "c")}, "reading"},
		"no cache":        {Config{Domains: []string{"a.example"}}, "needs a cache"},
		"an IP address":   {Config{Domains: []string{"192.0.2.1"}, Cache: cache}, "want a DNS name"},
		"a bare name":     {Config{Domains: []string{"localhost"}, Cache: cache}, "want a DNS name"},
		"a wildcard":      {Config{Domains: []string{"*.example.com"}, Cache: cache}, "want a DNS name"},
		"a URL, not name": {Config{Domains: []string{"https://a.example"}, Cache: cache}, "want a DNS name"},
	} {
		tt.cfg.Logger = quiet()
		_, err := New(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, tt.want)
		}
	}
}

// The plain-HTTP listener redirects GET and HEAD to HTTPS, on the HTTPS
// port when it is not 443, and refuses to take bodies in the clear.
func TestRedirect(t *testing.T) {
	for _, tt := range []struct {
		port, method, url string
		code              int
		location          string
	}{
		{"", "GET", "http://flows.example.com/flows/booking?x=1", 308, "https://flows.example.com/flows/booking?x=1"},
		{"443", "HEAD", "http://flows.example.com:80/", 308, "https://flows.example.com/"},
		{"8443", "GET", "http://flows.example.com:8080/readyz", 308, "https://flows.example.com:8443/readyz"},
		{"8443", "GET", "http://[::1]:8080/", 308, "https://[::1]:8443/"},
		{"", "POST", "http://flows.example.com/webhook", 400, ""},
	} {
		certs := &Certs{port: tt.port, log: quiet(), primary: "flows.example.com"}
		if certs.port == "443" {
			certs.port = ""
		}
		w := httptest.NewRecorder()
		certs.HTTPHandler().ServeHTTP(w, httptest.NewRequest(tt.method, tt.url, strings.NewReader("body")))
		if w.Code != tt.code || w.Header().Get("Location") != tt.location {
			t.Errorf("%s %s (port %q) = %d %q, want %d %q", tt.method, tt.url, tt.port, w.Code, w.Header().Get("Location"), tt.code, tt.location)
		}
		if tt.code == 400 && !strings.Contains(w.Body.String(), "use HTTPS: https://flows.example.com/webhook") {
			t.Errorf("POST answer %q", w.Body.String())
		}
	}
}

func autocertDirCache(dir string) autocert.Cache { return autocert.DirCache(dir) }

// A domain written with a trailing dot or in capitals is served: the host
// policy gets the name as checked, not as written.
func TestACMEHostPolicyNormalizedNames(t *testing.T) {
	c, err := New(Config{Domains: []string{"Flows.Example.com.", " other.example.org "}, Cache: autocert.DirCache(t.TempDir()), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"flows.example.com", "other.example.org"} {
		if err := c.manager.HostPolicy(t.Context(), name); err != nil {
			t.Errorf("HostPolicy(%s) = %v, want nil", name, err)
		}
	}
	if err := c.manager.HostPolicy(t.Context(), "evil.example.net"); err == nil {
		t.Error("HostPolicy(evil.example.net) = nil, want a refusal")
	}
}

// With ACME, the redirect goes to a configured name only, whatever Host the
// client sent.
func TestRedirectACMEConfiguredNamesOnly(t *testing.T) {
	certs := &Certs{log: quiet(), primary: "flows.example.com", domains: map[string]bool{"flows.example.com": true, "other.example.org": true}}
	for host, want := range map[string]string{
		"evil.example.net":   "https://flows.example.com/x",
		"Other.Example.org.": "https://Other.Example.org./x",
		"203.0.113.9":        "https://flows.example.com/x",
	} {
		r := httptest.NewRequest("GET", "http://flows.example.com/x", nil)
		r.Host = host
		w := httptest.NewRecorder()
		certs.HTTPHandler().ServeHTTP(w, r)
		if got := w.Header().Get("Location"); w.Code != 308 || got != want {
			t.Errorf("Host %s: %d %q, want 308 %q", host, w.Code, got, want)
		}
	}
}
