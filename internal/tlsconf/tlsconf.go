// Package tlsconf builds the TLS side of "waflow serve": certificates
// obtained and renewed by ACME (golang.org/x/crypto/acme/autocert) or read
// from files made elsewhere and reloaded when they change, TLS 1.2 at
// least, and the plain-HTTP handler that answers ACME http-01 challenges
// and redirects everything else to HTTPS.
//
// WhatsApp calls only public HTTPS endpoints with a CA-issued certificate;
// with this package the binary can face the Internet without a reverse
// proxy in front.
//
// Several replicas share one certificate when they share the ACME cache
// (Config.Cache; a database table for PostgreSQL, see StoreCache) and a
// Locker: the first replica that needs a certificate asks the CA for it
// while holding the lock, the others then find it in the cache. Challenges
// are answered by any replica, since autocert keeps its challenge tokens
// in the cache too.
package tlsconf

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// LetsEncrypt is the ACME directory used when Config.DirectoryURL is empty.
const LetsEncrypt = acme.LetsEncryptURL

// Config says where the certificates come from: either Domains (ACME) or
// CertFile and KeyFile.
type Config struct {
	// Domains are the names certificates are obtained for by ACME; a TLS
	// client asking for another name is refused.
	Domains []string
	// Email is the ACME account's contact address (expiry notices); may
	// be empty.
	Email string
	// DirectoryURL is the ACME server's directory; Let's Encrypt's when
	// empty.
	DirectoryURL string
	// HTTPClient talks to the ACME server; http.DefaultClient when nil
	// (a private ACME server's CA goes in its transport).
	HTTPClient *http.Client
	// Cache keeps the ACME account key, the certificates and the pending
	// challenges; required with Domains. autocert.DirCache for one
	// machine, StoreCache over a database shared by replicas.
	Cache autocert.Cache
	// Locker, when set, serialises the first issuance of a certificate
	// across the replicas sharing Cache.
	Locker Locker

	// CertFile and KeyFile are PEM files made elsewhere (a chain, leaf
	// first, and its key). They are read again when either changes.
	CertFile, KeyFile string

	// HTTPSPort is the port HTTP requests are redirected to; none (443)
	// when empty or "443".
	HTTPSPort string

	// Logger receives certificate loads and failures; slog.Default()
	// when nil.
	Logger *slog.Logger
}

// Locker takes a lock shared by the replicas; unlock releases it.
type Locker interface {
	Lock(ctx context.Context, name string) (unlock func(), err error)
}

// Certs serves certificates per Config.
type Certs struct {
	log     *slog.Logger
	port    string
	manager *autocert.Manager // nil with certificate files
	files   *fileCert         // nil with ACME
	locker  Locker
	domains map[string]bool
	primary string // the certificate served to clients that send no name

	mu       sync.Mutex
	obtained map[string]bool // domains this process has a certificate for
}

// New checks cfg and builds the certificate source. With files, it reads
// them once now: a server must not start with a certificate it cannot
// serve.
func New(cfg Config) (*Certs, error) {
	c := &Certs{log: cfg.Logger, port: cfg.HTTPSPort, locker: cfg.Locker, obtained: map[string]bool{}}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.port == "443" {
		c.port = ""
	}
	files := cfg.CertFile != "" || cfg.KeyFile != ""
	switch {
	case len(cfg.Domains) > 0 && files:
		return nil, errors.New("tls: both ACME domains and certificate files are set; use one")
	case files && (cfg.CertFile == "" || cfg.KeyFile == ""):
		return nil, errors.New("tls: a certificate file needs its key file and the other way round")
	case files:
		c.files = &fileCert{certFile: cfg.CertFile, keyFile: cfg.KeyFile, log: c.log}
		if _, err := c.files.get(); err != nil {
			return nil, err
		}
		return c, nil
	case len(cfg.Domains) == 0:
		return nil, errors.New("tls: no ACME domains and no certificate files")
	case cfg.Cache == nil:
		return nil, errors.New("tls: ACME needs a cache, or each start would ask the CA for a new certificate")
	}
	c.domains = map[string]bool{}
	var names []string // as checked: autocert's host policy sees the SNI name without its trailing dot
	for _, d := range cfg.Domains {
		d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
		if !strings.Contains(d, ".") || strings.ContainsAny(d, "/: *") || net.ParseIP(d) != nil {
			return nil, fmt.Errorf("tls: domain %q: want a DNS name such as flows.example.com (ACME gives no certificate for an IP address, a wildcard or a bare host name)", d)
		}
		c.domains[d] = true
		names = append(names, d)
		if c.primary == "" {
			c.primary = d
		}
	}
	dir := cfg.DirectoryURL
	if dir == "" {
		dir = LetsEncrypt
	}
	c.manager = &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      cfg.Cache,
		HostPolicy: autocert.HostWhitelist(names...),
		Email:      cfg.Email,
		Client:     &acme.Client{DirectoryURL: dir, HTTPClient: cfg.HTTPClient, UserAgent: "waflow"},
	}
	return c, nil
}

// TLSConfig is the server's TLS configuration: TLS 1.2 at least, HTTP/2
// and HTTP/1.1, and, with ACME, the tls-alpn-01 challenge protocol.
func (c *Certs) TLSConfig() *tls.Config {
	protos := []string{"h2", "http/1.1"}
	if c.manager != nil {
		protos = append(protos, acme.ALPNProto)
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: c.GetCertificate,
		NextProtos:     protos,
	}
}

// GetCertificate returns the certificate for a TLS handshake.
func (c *Certs) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c.files != nil {
		return c.files.get()
	}
	if hello.ServerName == "" {
		// A client that sends no name (one connecting by IP address, a
		// health check) gets the first domain's certificate.
		h := *hello
		h.ServerName = c.primary
		hello = &h
	}
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if !c.domains[name] || isChallenge(hello) || c.has(name) {
		// Names not configured are refused by autocert's host policy
		// (and not logged: scanners try any name).
		return c.manager.GetCertificate(hello)
	}
	if c.locker != nil {
		// The first certificate for name in this process: under the
		// lock, so that a replica starting at the same time finds it in
		// the cache instead of asking the CA for another.
		ctx, cancel := context.WithTimeout(hello.Context(), 5*time.Minute)
		defer cancel()
		unlock, err := c.locker.Lock(ctx, "acme "+name)
		if err != nil {
			c.log.Error("tls: certificate lock", "domain", name, "error", err)
			return nil, fmt.Errorf("tls: certificate lock for %s: %w", name, err)
		}
		defer unlock()
	}
	start := time.Now()
	cert, err := c.manager.GetCertificate(hello)
	if err != nil {
		c.log.Error("tls: no certificate", "domain", name, "error", err)
		return nil, err
	}
	c.mu.Lock()
	c.obtained[name] = true
	c.mu.Unlock()
	if cert.Leaf != nil {
		c.log.Info("tls: certificate ready", "domain", name, "not_after", cert.Leaf.NotAfter, "took", time.Since(start).Round(time.Millisecond))
	}
	return cert, nil
}

func (c *Certs) has(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.obtained[name]
}

// isChallenge reports whether hello is an ACME server's tls-alpn-01
// validation, which must never wait for the lock: the replica holding it
// is waiting for this very validation.
func isChallenge(hello *tls.ClientHelloInfo) bool {
	return len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acme.ALPNProto
}

// HTTPHandler is what the plain-HTTP listener serves: with ACME the
// http-01 challenges, and for everything else a redirect to HTTPS (GET and
// HEAD; other methods are answered 400, so that a client sending a body in
// the clear learns of it rather than being followed silently).
func (c *Certs) HTTPHandler() http.Handler {
	redirect := http.HandlerFunc(c.redirect)
	if c.manager != nil {
		return c.manager.HTTPHandler(redirect)
	}
	return redirect
}

func (c *Certs) redirect(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" || c.domains != nil && !c.domains[strings.ToLower(strings.TrimSuffix(host, "."))] {
		// With ACME, only to a configured name: the Host header is the
		// client's to choose (an open redirect, a poisoned cache).
		host = c.primary
	}
	if c.port != "" {
		host = net.JoinHostPort(host, c.port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	target := "https://" + host + r.URL.RequestURI()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "use HTTPS: %s\n", target)
		return
	}
	w.Header().Set("Connection", "close")
	http.Redirect(w, r, target, http.StatusPermanentRedirect)
}
