package main

// graphConfig is the configuration of the WhatsApp Cloud / Graph API side:
// access token, API base URL and version, business account and phone number
// ids, the public base URL of this server (for endpoint_uri). Declared on
// every command that talks to Meta, and on serve (the outbox sends).
type graphConfig struct{}

func (g *graphConfig) declare(s *settings) {}
