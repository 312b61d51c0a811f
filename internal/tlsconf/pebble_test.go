package tlsconf

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pebbleVersion is the Let's Encrypt test CA the ACME tests run against
// (github.com/letsencrypt/pebble). It is built with "go install" from the
// module proxy once per test run, unless WAFLOW_TEST_PEBBLE names a
// pebble binary already built.
const pebbleVersion = "v2.10.3"

var (
	pebbleOnce sync.Once
	pebbleBin  string
	pebbleErr  error
)

func pebbleBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("ACME test against pebble skipped under -short: it builds and runs Let's Encrypt's test CA and waits for a renewal")
	}
	if p := os.Getenv("WAFLOW_TEST_PEBBLE"); p != "" {
		return p
	}
	pebbleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "waflow-pebble")
		if err != nil {
			pebbleErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "install", "github.com/letsencrypt/pebble/v2/cmd/pebble@"+pebbleVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=", "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			pebbleErr = fmt.Errorf("building pebble %s (needs the Go module proxy; or set WAFLOW_TEST_PEBBLE to a pebble binary): %v\n%s", pebbleVersion, err, out)
			return
		}
		pebbleBin = filepath.Join(dir, "pebble")
	})
	if pebbleErr != nil {
		t.Fatal(pebbleErr)
	}
	return pebbleBin
}

// pebble is a running pebble ACME server.
type pebble struct {
	directory string         // the ACME directory URL
	client    *http.Client   // trusts pebble's own HTTPS listener
	roots     *x509.CertPool // the root of the certificates pebble issues
	newOrder  string         // the newOrder URL, to count orders
}

// startPebble runs pebble on 127.0.0.1, resolving every name to 127.0.0.1
// and validating challenges on tlsPort (tls-alpn-01) and httpPort
// (http-01); the certificates it issues are valid for validity.
func startPebble(t *testing.T, tlsPort, httpPort int, validity time.Duration) *pebble {
	t.Helper()
	bin := pebbleBinary(t)
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t, 1, "127.0.0.1", "localhost")
	os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600)
	listen, mgmt := freeAddr(t), freeAddr(t)
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":           listen,
		"managementListenAddress": mgmt,
		"certificate":             filepath.Join(dir, "cert.pem"),
		"privateKey":              filepath.Join(dir, "key.pem"),
		"httpPort":                httpPort,
		"tlsPort":                 tlsPort,
		"keyAlgorithm":            "ecdsa",
		"profiles": map[string]any{"default": map[string]any{
			"description": "waflow test", "validityPeriod": int(validity.Seconds()),
		}},
	}}
	b, _ := json.Marshal(cfg)
	os.WriteFile(filepath.Join(dir, "pebble.json"), b, 0o600)

	var out bytes.Buffer
	cmd := exec.Command(bin, "-config", filepath.Join(dir, "pebble.json"), "-dnsserver", startDNS(t))
	// No random sleep before validating, no random nonce rejections.
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("pebble's log:\n%s", out.String())
		}
	})

	trust := x509.NewCertPool()
	trust.AppendCertsFromPEM(certPEM)
	p := &pebble{
		directory: "https://" + listen + "/dir",
		client:    &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: trust}}},
	}
	var dirDoc struct {
		NewOrder string `json:"newOrder"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := p.client.Get(p.directory)
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&dirDoc)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble did not answer at %s: %v", p.directory, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.newOrder = dirDoc.NewOrder
	resp, err := p.client.Get("https://" + mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	p.roots = x509.NewCertPool()
	if !p.roots.AppendCertsFromPEM(root) {
		t.Fatalf("pebble's root: %q", root)
	}
	return p
}

// orderCounter counts the newOrder requests sent through it.
type orderCounter struct {
	next   http.RoundTripper
	url    string
	orders *atomic.Int32
}

func (c orderCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && r.URL.String() == c.url {
		c.orders.Add(1)
	}
	return c.next.RoundTrip(r)
}

// acmeClient is an HTTP client for pebble that counts orders.
func (p *pebble) acmeClient(orders *atomic.Int32) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: orderCounter{p.client.Transport, p.newOrder, orders}}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func port(t *testing.T, ln net.Listener) int {
	t.Helper()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// startDNS answers every A query with 127.0.0.1 and every other query with
// no record, so that pebble finds the test's names on this machine
// whatever /etc/hosts says. It returns its address; it speaks DNS over
// TCP, as pebble's resolver does.
func startDNS(t *testing.T) string {
	t.Helper()
	ln := listen(t)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				for {
					var n uint16
					if binary.Read(c, binary.BigEndian, &n) != nil {
						return
					}
					q := make([]byte, n)
					if _, err := io.ReadFull(c, q); err != nil {
						return
					}
					resp := dnsAnswer(q)
					if resp == nil {
						return
					}
					c.Write(binary.BigEndian.AppendUint16(nil, uint16(len(resp))))
					c.Write(resp)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dnsAnswer builds the answer to query q (RFC 1035 §4.1): its one
// question, and for type A the address 127.0.0.1.
func dnsAnswer(q []byte) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil
	}
	end := 12
	for end < len(q) && q[end] != 0 {
		end += int(q[end]) + 1
	}
	end += 5 // the root label, type, class
	if end > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[end-4:])
	resp := make([]byte, 0, end+16)
	resp = append(resp, q[0], q[1])
	resp = binary.BigEndian.AppendUint16(resp, 0x8400|uint16(q[2]&1)<<8|0x80) // QR, AA, RD echoed, RA
	resp = binary.BigEndian.AppendUint16(resp, 1)
	answers := uint16(0)
	if qtype == 1 {
		answers = 1
	}
	resp = binary.BigEndian.AppendUint16(resp, answers)
	resp = append(resp, 0, 0, 0, 0) // no authority, no additional
	resp = append(resp, q[12:end]...)
	if answers == 1 {
		resp = append(resp, 0xc0, 12) // the name: a pointer to the question's
		resp = binary.BigEndian.AppendUint16(resp, 1)
		resp = binary.BigEndian.AppendUint16(resp, 1)
		resp = binary.BigEndian.AppendUint32(resp, 60)
		resp = binary.BigEndian.AppendUint16(resp, 4)
		resp = append(resp, 127, 0, 0, 1)
	}
	return resp
}

// replica serves HTTPS with certs on ln and its HTTP handler on httpLn.
func replica(t *testing.T, certs *Certs, ln, httpLn net.Listener) {
	t.Helper()
	hs := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello over "+r.Proto) }),
		TLSConfig:         certs.TLSConfig(),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(quiet().Handler(), slog.LevelWarn),
	}
	go hs.ServeTLS(ln, "", "")
	t.Cleanup(func() { hs.Close() })
	if httpLn != nil {
		h := &http.Server{Handler: certs.HTTPHandler(), ReadHeaderTimeout: 5 * time.Second}
		go h.Serve(httpLn)
		t.Cleanup(func() { h.Close() })
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// A certificate is obtained from a real ACME server (pebble) on the first
// handshake, served with a chain to the CA's root, kept in the cache, and
// renewed before it expires: pebble issues it for 24 s here, and autocert
// renews a certificate a third of its lifetime before its end.
func TestACMEObtainServeRenew(t *testing.T) {
	const domain = "flows.waflow.test"
	ln, httpLn := listen(t), listen(t)
	p := startPebble(t, port(t, ln), port(t, httpLn), 24*time.Second)
	var orders atomic.Int32
	cacheDir := filepath.Join(t.TempDir(), "tls")
	certs, err := New(Config{
		Domains:      []string{domain},
		DirectoryURL: p.directory,
		HTTPClient:   p.acmeClient(&orders),
		Cache:        autocertDirCache(cacheDir),
		HTTPSPort:    strconv.Itoa(port(t, ln)),
		Logger:       quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	replica(t, certs, ln, httpLn)
	addr := ln.Addr().String()

	first, err := servedSerial(t, addr, domain, p.roots)
	if err != nil {
		t.Fatalf("the first handshake: %v", err)
	}
	// Served over HTTP/2 with a chain the CA's root verifies.
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: p.roots, ServerName: domain},
		ForceAttemptHTTP2: true,
	}}
	resp, err := client.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello over HTTP/2.0" {
		t.Fatalf("answer %q", body)
	}
	// Plain HTTP is redirected to the HTTPS port, on the certificate's
	// domain: a Host that is not one of the configured names (here the
	// address itself) is never echoed into the redirect.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get("http://" + httpLn.Addr().String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "https://" + domain + ":" + strconv.Itoa(port(t, ln)) + "/readyz"; resp.StatusCode != 308 || resp.Header.Get("Location") != want {
		t.Fatalf("HTTP answer %d %q, want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, domain)); err != nil {
		t.Fatalf("the certificate is not in the cache folder: %v", err)
	}
	// A name not configured gets no certificate.
	if _, err := servedSerial(t, addr, "other.waflow.test", p.roots); err == nil {
		t.Fatal("a handshake for a name not configured succeeded")
	}

	// A restart finds the certificate in the cache and orders none.
	before := orders.Load()
	ln2 := listen(t)
	restarted, err := New(Config{Domains: []string{domain}, DirectoryURL: p.directory, HTTPClient: p.acmeClient(&orders), Cache: autocertDirCache(cacheDir), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	replica(t, restarted, ln2, nil)
	if s, err := servedSerial(t, ln2.Addr().String(), domain, p.roots); err != nil || s != first {
		t.Fatalf("after a restart: serial %s, %v; want the cached %s", s, err, first)
	}
	if n := orders.Load(); n != before {
		t.Fatalf("the restart ordered %d certificates, want none", n-before)
	}

	// Renewal: within the certificate's lifetime a new one is served.
	deadline := time.Now().Add(40 * time.Second)
	for {
		s, err := servedSerial(t, addr, domain, p.roots)
		if err != nil {
			t.Fatalf("during renewal: %v", err)
		}
		if s != first {
			t.Logf("renewed: serial %s, then %s", first, s)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the certificate was not renewed within 40 s (serial %s still served)", first)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
