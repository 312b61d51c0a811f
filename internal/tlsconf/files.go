package tlsconf

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// fileCert serves a certificate read from files and reads them again when
// either changes (its modification time or size), so that a certificate
// renewed by another tool (certbot, a Kubernetes secret) is served without
// a restart. A pair that does not load (the tool is half-way through
// writing it, the key does not match) leaves the previous certificate in
// service; it is tried again once a file changes again.
type fileCert struct {
	certFile, keyFile string
	log               *slog.Logger

	mu    sync.Mutex
	cert  *tls.Certificate
	stamp [2]fileStamp // of the files cert was read from, or last tried
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.ModTime(), fi.Size()}, nil
}

// get returns the certificate, read again first if a file changed. It is
// called on every handshake: two stat calls are little next to the
// handshake's own cost.
func (f *fileCert) get() (*tls.Certificate, error) {
	cs, errC := stampOf(f.certFile)
	ks, errK := stampOf(f.keyFile)
	f.mu.Lock()
	defer f.mu.Unlock()
	now := [2]fileStamp{cs, ks}
	if f.cert != nil && (errC != nil || errK != nil || now == f.stamp) {
		return f.cert, nil
	}
	f.stamp = now
	cert, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		err = fmt.Errorf("tls: reading %s and %s: %w", f.certFile, f.keyFile, err)
		if f.cert == nil {
			return nil, err
		}
		f.log.Error("tls: the certificate files changed but do not load; still serving the previous certificate", "error", err)
		return f.cert, nil
	}
	first := f.cert == nil
	f.cert = &cert
	msg := "tls: certificate reloaded"
	if first {
		msg = "tls: certificate loaded"
	}
	f.log.Info(msg, "file", f.certFile, "subject", cert.Leaf.Subject.String(), "dns_names", cert.Leaf.DNSNames, "not_after", cert.Leaf.NotAfter)
	if time.Until(cert.Leaf.NotAfter) < 7*24*time.Hour {
		f.log.Warn("tls: the certificate expires within a week", "file", f.certFile, "not_after", cert.Leaf.NotAfter)
	}
	return f.cert, nil
}
