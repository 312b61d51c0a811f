package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/waflow/waflow/graph"
)

// graphConfig is the configuration of the WhatsApp Cloud / Graph API side:
// access token, API base URL and version, business account and phone number
// ids, the public base URL of this server (for endpoint_uri). Declared on
// every command that talks to Meta, and on serve (the outbox sends).
type graphConfig struct {
	accessToken   string
	baseURL       string
	version       string
	timeout       string
	wabaID        string
	phoneNumberID string
	phoneNumber   string // the display number, such as +1 555 000 1111, for previews
	publicURL     string // https://flows.example.com: endpoint_uri = publicURL/flows/{name}
}

func (g *graphConfig) declare(s *settings) {
	s.Secret(&g.accessToken, "graph-access-token", "WAFLOW_GRAPH_ACCESS_TOKEN", "the WhatsApp Cloud API (Graph API) system-user access token")
	s.String(&g.baseURL, "graph-url", "WAFLOW_GRAPH_URL", graph.DefaultBaseURL, "the Graph API base URL")
	s.String(&g.version, "graph-version", "WAFLOW_GRAPH_VERSION", graph.DefaultVersion, "the Graph API version")
	s.String(&g.timeout, "graph-timeout", "WAFLOW_GRAPH_TIMEOUT", "30s", "deadline of one Graph API request")
	s.String(&g.wabaID, "waba-id", "WAFLOW_WABA_ID", "", "the WhatsApp Business Account id (flows live there)")
	s.String(&g.phoneNumberID, "phone-number-id", "WAFLOW_PHONE_NUMBER_ID", "", "the id of the business phone number messages are sent from")
	s.String(&g.phoneNumber, "phone-number", "WAFLOW_PHONE_NUMBER", "", "the business phone number itself, such as +15550001111 (preview links)")
	s.String(&g.publicURL, "public-url", "WAFLOW_PUBLIC_URL", "", "the public https base URL of this server; a flow's endpoint_uri is PUBLIC_URL/flows/{flow}")
}

// errNoAccessToken says what to set when a command needs the Graph API.
var errNoAccessToken = errors.New("no Graph API access token: set WAFLOW_GRAPH_ACCESS_TOKEN_FILE (or -graph-access-token-file) to a file holding a system-user token with whatsapp_business_management and whatsapp_business_messaging")

// client returns a Graph API client with the default retry policy, or
// errNoAccessToken.
func (g *graphConfig) client(log *slog.Logger) (*graph.Client, error) {
	return g.newClient(log, nil)
}

// newClient returns a Graph API client with retry (nil for the default).
func (g *graphConfig) newClient(log *slog.Logger, retry *graph.RetryPolicy) (*graph.Client, error) {
	if strings.TrimSpace(g.accessToken) == "" {
		return nil, errNoAccessToken
	}
	timeout, err := g.requestTimeout()
	if err != nil {
		return nil, err
	}
	return graph.New(graph.Options{BaseURL: g.baseURL, Version: g.version, AccessToken: g.accessToken, Timeout: timeout, Retry: retry, Logger: log})
}

func (g *graphConfig) requestTimeout() (time.Duration, error) {
	timeout, err := time.ParseDuration(g.timeout)
	if err != nil || timeout <= 0 {
		return 0, fmt.Errorf("graph timeout %q: want a positive duration such as 30s", g.timeout)
	}
	return timeout, nil
}

// graphNeed is a setting a Graph command cannot run without.
type graphNeed int

const (
	needToken graphNeed = iota
	needWABAID
	needPhoneID
	needPhoneNumber
	needPublicURL
)

// require checks every setting in needs and reports all the missing ones in
// one error, so a new user fixes the configuration in one go rather than one
// run per setting.
func (g *graphConfig) require(needs ...graphNeed) error {
	var missing []string
	for _, n := range needs {
		switch {
		case n == needToken && strings.TrimSpace(g.accessToken) == "":
			missing = append(missing, "WAFLOW_GRAPH_ACCESS_TOKEN_FILE (or -graph-access-token-file): a file holding a system-user access token with whatsapp_business_management and whatsapp_business_messaging")
		case n == needWABAID && g.wabaID == "":
			missing = append(missing, "WAFLOW_WABA_ID (or -waba-id): the WhatsApp Business Account id, in WhatsApp Manager, Account tools, or the app dashboard's API Setup")
		case n == needPhoneID && g.phoneNumberID == "":
			missing = append(missing, "WAFLOW_PHONE_NUMBER_ID (or -phone-number-id): the app dashboard's API Setup shows it next to the number")
		case n == needPhoneNumber && g.phoneNumber == "":
			missing = append(missing, "WAFLOW_PHONE_NUMBER (or -phone-number): the business number itself, such as +15550001111")
		case n == needPublicURL && g.publicURL == "":
			missing = append(missing, "WAFLOW_PUBLIC_URL (or -public-url): the https address Meta reaches this server at, such as https://flows.example.com")
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("missing setting: %s", missing[0])
	}
	return fmt.Errorf("missing %d settings:\n  %s", len(missing), strings.Join(missing, "\n  "))
}

// needWABA checks the account id flowIDOf needs before it looks a flow up
// by name on Meta.
func (g *graphConfig) needWABA() error {
	if g.wabaID == "" {
		return errors.New("no WhatsApp Business Account id: set WAFLOW_WABA_ID (or -waba-id); it is in WhatsApp Manager, Account tools, or the app dashboard's API Setup")
	}
	return nil
}
