package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

func healthcheckCommand() *Command {
	return &Command{
		Name:    "healthcheck",
		Summary: "check that a waflow server answers (for container health checks)",
		Args:    "[URL]",
		Help: `
Asks URL (by default /healthz of the server that WAFLOW_ADDR and the TLS
settings describe, on this machine) and exits 0 when it answers 200, 1
otherwise. It needs no shell and no other program, so a container image can
be built without either:

    HEALTHCHECK CMD ["/waflow", "healthcheck"]

A local HTTPS server is asked without checking its certificate: the check
is whether this process answers, and its certificate names the public
domain, not 127.0.0.1. Give a URL to check anything else (verified).`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
			return func(ctx context.Context, args []string) error {
				if len(args) > 1 {
					return usagef("healthcheck", "takes at most one URL")
				}
				target, local := "", false
				if len(args) == 1 {
					target = args[0]
				} else {
					target, local = localHealthURL(env.Getenv)
				}
				u, err := url.Parse(target)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return usagef("healthcheck", "URL %q: want http:// or https://", target)
				}
				tr := &http.Transport{Proxy: nil}
				if local && u.Scheme == "https" {
					tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // loopback: see the help
				}
				client := &http.Client{Timeout: *timeout, Transport: tr}
				resp, err := client.Get(target)
				if err != nil {
					return &exitError{code: 1, msg: fmt.Sprintf("%s: %v", target, err)}
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return &exitError{code: 1, msg: fmt.Sprintf("%s: %s", target, resp.Status)}
				}
				fmt.Fprintf(env.Stdout, "%s: %s\n", target, resp.Status)
				return nil
			}
		},
	}
}

// localHealthURL is the /healthz URL of the server configured by the
// environment (WAFLOW_ADDR; https when a TLS setting is present), on
// loopback when it listens on every address.
func localHealthURL(getenv func(string) string) (string, bool) {
	addr := getenv("WAFLOW_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "8080"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if strings.TrimSpace(getenv("WAFLOW_TLS_DOMAINS")) != "" || getenv("WAFLOW_TLS_CERT_FILE") != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/healthz", true
}
