package main

import "github.com/waflow/waflow/envelope"

// rsaBackend names the RSA implementation compiled in ("go" or "openssl").
func rsaBackend() string { return envelope.Backend }
