package main

import (
	"fmt"
	"io"
	"net"
	"strings"
)

// bannerInfo is what the start-up banner tells: where each part of the
// server answers and where the development secrets are.
type bannerInfo struct {
	addr    net.Addr
	https   bool
	domains []string // ACME domains: the first is the address shown
	flows   []string // "/flows/NAME", sorted
	webhook bool
	preview bool
	console bool
	sec     *secrets
}

// writeBanner prints where serve answers and, on a development server, the
// files holding its secrets. It never prints a secret's value, only the file
// that holds it.
func writeBanner(w io.Writer, b bannerInfo) {
	base := "http://" + displayAddr(b.addr)
	if b.https {
		base = "https://" + displayAddr(b.addr)
		if len(b.domains) > 0 {
			base = "https://" + b.domains[0]
			if _, port, err := net.SplitHostPort(b.addr.String()); err == nil && port != "443" {
				base = "https://" + net.JoinHostPort(b.domains[0], port)
			}
		}
	}
	var s strings.Builder
	mode := ""
	if b.sec.dev {
		mode = " (development mode)"
	}
	fmt.Fprintf(&s, "waflow: serving on %s%s\n", base, mode)
	fmt.Fprintf(&s, "  data endpoints (POST), one per flow:\n")
	for _, f := range b.flows {
		fmt.Fprintf(&s, "    %s%s\n", base, f)
	}
	if b.webhook {
		fmt.Fprintf(&s, "  webhook (Meta's callback URL): %s/webhook\n", base)
	}
	if b.preview {
		fmt.Fprintf(&s, "  preview in a browser:          %s/preview/\n", base)
	}
	if b.console {
		fmt.Fprintf(&s, "  console in a browser:          %s/console/ (accounts: waflow console users add)\n", base)
	}
	if d := b.sec.devFiles; d != nil {
		if d.Generated {
			fmt.Fprintf(&s, "  development keys: generated now in %s (reused on the next start)\n", d.Dir)
			fmt.Fprintf(&s, "    public key to upload to Meta: %s (new: run waflow keys upload)\n", d.PublicKeyPath())
		} else {
			fmt.Fprintf(&s, "  development keys: reused from %s\n", d.Dir)
			fmt.Fprintf(&s, "    public key to upload to Meta: %s\n", d.PublicKeyPath())
		}
		if b.sec.devVerifyToken {
			fmt.Fprintf(&s, "    webhook verify token: in the file %s\n", d.VerifyTokenPath())
		}
		fmt.Fprintf(&s, "  not for production: set WAFLOW_PRIVATE_KEY_FILE, WAFLOW_APP_SECRET_FILE,\n"+
			"  WAFLOW_TOKEN_SECRET_FILE and WAFLOW_VERIFY_TOKEN_FILE (waflow serve -h)\n")
	}
	fmt.Fprintf(&s, "  stop with Ctrl-C\n")
	io.WriteString(w, s.String())
}

// writeStopped prints the last line of serve, after a graceful shutdown or
// a failure.
func writeStopped(w io.Writer, err error) {
	if err != nil {
		fmt.Fprintf(w, "waflow: stopped: %v\n", err)
		return
	}
	fmt.Fprintf(w, "waflow: stopped\n")
}

// displayAddr is addr as a browser reaches it: an unspecified listen
// address (0.0.0.0, ::) is shown as 127.0.0.1.
func displayAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
