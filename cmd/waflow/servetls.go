package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/waflow/waflow/internal/tlsconf"
)

// serveSettings are the settings of serve alone: HTTPS in the binary and
// how a replica stops. They are declared by the serve command only, not
// shared with the Graph commands.
type serveSettings struct {
	httpAddr      string
	tlsDomains    string
	tlsEmail      string
	acmeDirectory string
	acmeCAFile    string
	certFile      string
	keyFile       string

	drainDelay      string
	shutdownTimeout string
}

// Default of the drain delay in production; a development server stops at
// once.
const defaultDrainDelay = 5 * time.Second

func (c *serveSettings) declare(s *settings) {
	s.String(&c.tlsDomains, "tls-domains", "WAFLOW_TLS_DOMAINS", "", "serve HTTPS with certificates obtained and renewed by ACME (Let's Encrypt) for these comma-separated names; kept in the database with PostgreSQL (replicas share them), in DATA_DIR/tls with SQLite")
	s.String(&c.tlsEmail, "tls-email", "WAFLOW_TLS_EMAIL", "", "contact address of the ACME account (expiry notices)")
	s.String(&c.acmeDirectory, "tls-acme-directory", "WAFLOW_TLS_ACME_DIRECTORY", "", "the ACME directory URL (default Let's Encrypt's, "+tlsconf.LetsEncrypt+"; use https://acme-staging-v02.api.letsencrypt.org/directory to try a deployment)")
	s.String(&c.acmeCAFile, "tls-acme-ca-file", "WAFLOW_TLS_ACME_CA_FILE", "", "PEM file of the CA certificates that the ACME server's own HTTPS chains to, for a private ACME server (the system's roots otherwise)")
	s.String(&c.certFile, "tls-cert-file", "WAFLOW_TLS_CERT_FILE", "", "serve HTTPS with this PEM certificate chain made elsewhere (read again when it changes); with -tls-key-file")
	s.String(&c.keyFile, "tls-key-file", "WAFLOW_TLS_KEY_FILE", "", "the PEM private key of -tls-cert-file (read again when it changes)")
	s.String(&c.httpAddr, "http-addr", "WAFLOW_HTTP_ADDR", "", "with HTTPS, a plain-HTTP listen address (such as :80) that redirects to HTTPS and answers ACME http-01 challenges")
	s.String(&c.drainDelay, "drain-delay", "WAFLOW_DRAIN_DELAY", "auto", "on SIGTERM, how long /readyz answers 503 while the server still serves, for load balancers to stop sending requests here, before it stops accepting; auto is 5s, and 0 on a development server")
	s.String(&c.shutdownTimeout, "shutdown-timeout", "WAFLOW_SHUTDOWN_TIMEOUT", "15s", "after the drain delay, how long requests in flight get to finish; the workers then settle what they hold (at most the webhook handler timeout or an outbox send)")
}

// tlsConfig returns the HTTPS configuration, or nil without HTTPS. addr is
// the HTTPS listen address, whose port the redirect goes to.
func (c *serveSettings) tlsConfig(addr string) (*tlsconf.Config, error) {
	domains := splitList(c.tlsDomains)
	if len(domains) == 0 && c.certFile == "" && c.keyFile == "" {
		if c.httpAddr != "" {
			return nil, errors.New("the HTTP address (WAFLOW_HTTP_ADDR) redirects to HTTPS, which is not configured: set WAFLOW_TLS_DOMAINS, or WAFLOW_TLS_CERT_FILE and WAFLOW_TLS_KEY_FILE")
		}
		return nil, nil
	}
	cfg := &tlsconf.Config{
		Domains:      domains,
		Email:        c.tlsEmail,
		DirectoryURL: c.acmeDirectory,
		CertFile:     c.certFile,
		KeyFile:      c.keyFile,
	}
	if _, port, err := net.SplitHostPort(addr); err == nil && port != "0" {
		cfg.HTTPSPort = port
	}
	if c.acmeCAFile != "" {
		b, err := os.ReadFile(c.acmeCAFile)
		if err != nil {
			return nil, fmt.Errorf("ACME CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("ACME CA file %s: no PEM certificate in it", c.acmeCAFile)
		}
		cfg.HTTPClient = &http.Client{
			Timeout:   time.Minute,
			Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		}
	}
	return cfg, nil
}

// tlsCacheDir is the ACME cache folder with SQLite.
func (c *appConfig) tlsCacheDir() string { return filepath.Join(c.dataDir, "tls") }

// stopDurations reads the drain delay and the shutdown timeout. An empty
// drain delay (serve's settings not declared, as in tests that call
// runServe) is none.
func (c *serveSettings) stopDurations(dev bool) (drain, shutdown time.Duration, err error) {
	switch c.drainDelay {
	case "":
	case "auto":
		if !dev {
			drain = defaultDrainDelay
		}
	default:
		drain, err = time.ParseDuration(c.drainDelay)
		if err != nil || drain < 0 {
			return 0, 0, fmt.Errorf("drain delay %q: want a duration such as 5s, 0, or auto", c.drainDelay)
		}
	}
	if c.shutdownTimeout != "" {
		if shutdown, err = positiveDuration("shutdown timeout", c.shutdownTimeout); err != nil {
			return 0, 0, err
		}
	}
	return drain, shutdown, nil
}
