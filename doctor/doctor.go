// Package doctor checks a waflow deployment end to end and says what to fix:
// the public URL answers over HTTPS with a certificate WhatsApp accepts, the
// key Meta holds for the phone number is ours, an app is subscribed to the
// WhatsApp Business Account, signed webhooks reach the inbox, each flow is
// published, points its endpoint_uri here and can be sent, the local clock
// agrees with Meta's, and the database is reachable and migrated.
//
// [Run] returns one [Check] per finding; it calls the Graph API, the store
// and the public URL through the interfaces of [Config], so tests run it
// against the fake Graph API (package graph/graphtest) and a test store.
// It only reads: it never uploads, publishes nor subscribes anything.
package doctor

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/deploy"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/keys"
)

// Status is the verdict of a check.
type Status string

// The verdicts. Only FAIL makes [Failed] true: a WARN is worth a look but
// the deployment works.
const (
	OK   Status = "OK"
	Warn Status = "WARN"
	Fail Status = "FAIL"
)

// Check is one finding: what was checked, the verdict, what was seen and,
// unless OK, what to do about it.
type Check struct {
	Name   string // "https", "key", "subscription", "webhook", "flow NAME", "clock", "database"
	Status Status
	Detail string // what was seen
	Fix    string // what to do; empty when OK
}

// String is the check on one line: "FAIL key: detail. Fix: fix".
func (c Check) String() string {
	s := fmt.Sprintf("%-4s %s: %s", c.Status, c.Name, c.Detail)
	if c.Fix != "" {
		s += ". Fix: " + c.Fix
	}
	return s
}

// Failed reports whether any check failed.
func Failed(checks []Check) bool {
	for _, c := range checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// Graph is the part of the Graph API client the checks call;
// *graph.Client implements it.
type Graph interface {
	BusinessPublicKey(ctx context.Context, phoneNumberID string) (*graph.BusinessPublicKey, error)
	SubscribedApps(ctx context.Context, wabaID string) ([]graph.Application, error)
	ListFlows(ctx context.Context, wabaID string) ([]graph.Flow, error)
	GetFlow(ctx context.Context, flowID string, opts *graph.GetFlowOptions) (*graph.Flow, error)
}

// Store is the part of the store the checks read; every waflow.Store
// implements it.
type Store interface {
	Ping(ctx context.Context) error
	InboxEvents(ctx context.Context, f waflow.InboxFilter) ([]waflow.InboxEvent, error)
	FlowDeployments(ctx context.Context, wabaID string) ([]waflow.FlowDeployment, error)
}

// SchemaVersioner is implemented by stores that can say which migrations
// the database has and which the binary knows (package sqlite's DB).
type SchemaVersioner interface {
	SchemaVersion(ctx context.Context) (applied, known int, err error)
}

// Flow is a flow the deployment serves.
type Flow struct {
	Name string
	// UsesEndpoint says the flow talks to the data endpoint, so its
	// endpoint_uri must point here.
	UsesEndpoint bool
	// Required makes a flow that is not on Meta a failure rather than a
	// warning (a flow named on the command line).
	Required bool
}

// Config is what Run checks and how it reaches it.
type Config struct {
	// PublicURL is the https base URL Meta reaches the server at.
	PublicURL string
	// HealthPath is fetched under PublicURL for the HTTPS check;
	// "/healthz" when empty.
	HealthPath string
	// HTTPClient fetches PublicURL; a client with a 15 s timeout and the
	// system's roots when nil. Tests give it their own roots.
	HTTPClient *http.Client

	// Graph reaches the Graph API; when nil the Graph checks fail with
	// GraphErr (why there is no client, such as a missing token).
	Graph    Graph
	GraphErr error
	// GraphDate returns the Date header of the newest Graph API answer
	// and the local time it arrived (see DateRecorder); ok is false
	// before the first answer. Nil skips the clock check.
	GraphDate func() (remote, local time.Time, ok bool)

	WABAID        string
	PhoneNumberID string
	// AppID, when set, must be among the apps subscribed to the WABA.
	AppID string
	// OurKeys are the public keys of the private keys the server decrypts
	// with, current first; KeysErr says why there are none.
	OurKeys []*rsa.PublicKey
	KeysErr error
	// Flows are the flows to check on Meta.
	Flows []Flow

	// Store is the open store; when nil the database check fails with
	// StoreErr.
	Store    Store
	StoreErr error

	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// WebhookWindow is how recent the newest webhook must be to count as
	// "seen recently"; 24 hours when zero.
	WebhookWindow time.Duration
	// CertMinValidity is how long the certificate must still be valid;
	// 14 days when zero.
	CertMinValidity time.Duration
	// MaxClockSkew is the largest tolerated difference between the local
	// clock and the Graph API's; one minute when zero.
	MaxClockSkew time.Duration
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Run runs every check and returns them in a fixed order: database, https,
// key, subscription, webhook, one per flow, clock. It never fails as a
// whole: a check that cannot run is itself a FAIL.
func Run(ctx context.Context, cfg Config) []Check {
	var out []Check
	out = append(out, checkDatabase(ctx, &cfg))
	out = append(out, checkHTTPS(ctx, &cfg))
	out = append(out, checkKey(ctx, &cfg))
	out = append(out, checkSubscription(ctx, &cfg))
	out = append(out, checkWebhook(ctx, &cfg))
	out = append(out, checkFlows(ctx, &cfg)...)
	if cfg.GraphDate != nil {
		out = append(out, checkClock(&cfg))
	}
	return out
}

func ok(name, detail string) Check { return Check{Name: name, Status: OK, Detail: detail} }

func warn(name, detail, fix string) Check {
	return Check{Name: name, Status: Warn, Detail: detail, Fix: fix}
}

func fail(name, detail, fix string) Check {
	return Check{Name: name, Status: Fail, Detail: detail, Fix: fix}
}

func checkDatabase(ctx context.Context, cfg *Config) Check {
	const name = "database"
	if cfg.Store == nil {
		return fail(name, fmt.Sprintf("cannot open the database: %v", cfg.StoreErr),
			"check WAFLOW_DATABASE_URL (or the data folder's permissions for SQLite) and that the database server is up")
	}
	if err := cfg.Store.Ping(ctx); err != nil {
		return fail(name, fmt.Sprintf("the database does not answer: %v", err),
			"check that the database server is up and reachable from this machine")
	}
	sv, versioned := cfg.Store.(SchemaVersioner)
	if !versioned {
		return Check{Name: name, Status: OK, Detail: "reachable, migrations applied"}
	}
	applied, known, err := sv.SchemaVersion(ctx)
	switch {
	case err != nil:
		return fail(name, fmt.Sprintf("cannot read the schema version: %v", err), "check the database user's rights on schema_migrations")
	case applied < known:
		return fail(name, fmt.Sprintf("schema version %d, this binary needs %d", applied, known),
			"start waflow serve once: it applies the missing migrations")
	case applied > known:
		return warn(name, fmt.Sprintf("schema version %d is newer than this binary's %d", applied, known),
			"a newer waflow migrated this database: upgrade this binary")
	}
	return Check{Name: name, Status: OK, Detail: fmt.Sprintf("reachable, schema version %d (all migrations applied)", applied)}
}

const tlsFix = "WhatsApp calls only https endpoints with a certificate from a public CA: set WAFLOW_TLS_DOMAINS for a Let's Encrypt certificate, or serve a CA-issued certificate at the reverse proxy"

func checkHTTPS(ctx context.Context, cfg *Config) Check {
	const name = "https"
	if cfg.PublicURL == "" {
		return fail(name, "no public URL configured", "set WAFLOW_PUBLIC_URL (or -public-url) to the https address Meta reaches this server at, such as https://flows.example.com")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || u.Host == "" {
		return fail(name, fmt.Sprintf("public URL %q does not parse as an absolute URL", cfg.PublicURL), "set WAFLOW_PUBLIC_URL to an address such as https://flows.example.com")
	}
	if u.Scheme != "https" {
		return fail(name, fmt.Sprintf("public URL %s is not https", cfg.PublicURL), tlsFix)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	path := cfg.HealthPath
	if path == "" {
		path = "/healthz"
	}
	target := u.JoinPath(path).String()
	req, err := http.NewRequestWithContext(ctx, "GET", target, nil)
	if err != nil {
		return fail(name, err.Error(), "set WAFLOW_PUBLIC_URL to an address such as https://flows.example.com")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return httpsError(name, target, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return fail(name, fmt.Sprintf("GET %s was not answered over TLS (redirected to http?)", target), tlsFix)
	}
	leaf := resp.TLS.PeerCertificates[0]
	left := leaf.NotAfter.Sub(cfg.now())
	minLeft := cfg.CertMinValidity
	if minLeft <= 0 {
		minLeft = 14 * 24 * time.Hour
	}
	cert := fmt.Sprintf("certificate for %s valid until %s", strings.Join(leaf.DNSNames, ","), leaf.NotAfter.UTC().Format("2006-01-02"))
	switch {
	case left < minLeft:
		return warn(name, fmt.Sprintf("%s: expires in %s", cert, roundDays(left)),
			"renew the certificate now: with WAFLOW_TLS_DOMAINS check the serve log for ACME errors (port 443 reachable, DNS pointing here); at a reverse proxy, check its renewal")
	case resp.StatusCode == http.StatusNotFound:
		return warn(name, fmt.Sprintf("TLS verified (%s) but GET %s answered 404", cert, target),
			"check that the reverse proxy forwards this path to waflow serve; WhatsApp needs /flows/ and /webhook")
	case resp.StatusCode >= 300:
		return fail(name, fmt.Sprintf("TLS verified (%s) but GET %s answered HTTP %d", cert, target, resp.StatusCode),
			"check that waflow serve is running and ready behind this address (its /readyz says why not)")
	}
	return ok(name, fmt.Sprintf("%s answers over TLS; %s", target, cert))
}

// httpsError explains why the TLS handshake or the request failed.
func httpsError(name, target string, err error) Check {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknown):
		return fail(name, fmt.Sprintf("GET %s: the certificate is not signed by a trusted CA (self-signed, or the chain lacks its intermediate certificates)", target), tlsFix+"; serve the full chain (fullchain.pem), not the leaf alone")
	case errors.As(err, &host):
		return fail(name, fmt.Sprintf("GET %s: the certificate is for %s, not this host", target, strings.Join(host.Certificate.DNSNames, ",")), "get a certificate naming the public URL's host (add it to WAFLOW_TLS_DOMAINS)")
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fail(name, fmt.Sprintf("GET %s: the certificate has expired", target), "renew the certificate; with WAFLOW_TLS_DOMAINS check the serve log for ACME errors")
	case errors.As(err, &verify):
		return fail(name, fmt.Sprintf("GET %s: the certificate does not verify: %v", target, verify.Err), tlsFix)
	}
	return fail(name, fmt.Sprintf("GET %s: %v", target, err), "check that the host resolves to this server, port 443 is open and waflow serve (or its reverse proxy) listens on it")
}

func roundDays(d time.Duration) string {
	if d < 48*time.Hour {
		return d.Round(time.Minute).String()
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}

// graphMissing is the check of a Graph step that cannot run without a
// client.
func graphMissing(name string, cfg *Config) Check {
	err := cfg.GraphErr
	if err == nil {
		err = errors.New("no Graph API client")
	}
	return fail(name, fmt.Sprintf("cannot ask the Graph API: %v", err), "set WAFLOW_GRAPH_ACCESS_TOKEN_FILE to a file holding a system-user token")
}

func checkKey(ctx context.Context, cfg *Config) Check {
	const name = "key"
	if cfg.Graph == nil {
		return graphMissing(name, cfg)
	}
	if cfg.PhoneNumberID == "" {
		return fail(name, "no phone number id configured", "set WAFLOW_PHONE_NUMBER_ID (or -phone-number-id): the app dashboard's API Setup shows it")
	}
	if len(cfg.OurKeys) == 0 && cfg.KeysErr != nil {
		return fail(name, fmt.Sprintf("cannot read our private key: %v", cfg.KeysErr), "check WAFLOW_PRIVATE_KEY_FILE and WAFLOW_PRIVATE_KEY_PASSPHRASE_FILE")
	}
	if len(cfg.OurKeys) == 0 {
		return fail(name, "no private key configured", "set WAFLOW_PRIVATE_KEY_FILE to the key serve decrypts with")
	}
	got, err := cfg.Graph.BusinessPublicKey(ctx, cfg.PhoneNumberID)
	if errors.Is(err, graph.ErrNoPublicKey) {
		return fail(name, fmt.Sprintf("Meta has no business public key for phone number %s: WhatsApp cannot encrypt to us", cfg.PhoneNumberID), "run: waflow keys upload")
	}
	if err != nil {
		return fail(name, fmt.Sprintf("cannot read the business public key: %v", err), graphFix(err))
	}
	theirs, err := keys.ParsePublicKey([]byte(got.PEM))
	if err != nil {
		return fail(name, fmt.Sprintf("Meta's business public key does not parse: %v", err), "run: waflow keys upload")
	}
	fp := keys.Fingerprint(theirs)
	if got.SignatureStatus != graph.SignatureValid {
		return fail(name, fmt.Sprintf("Meta's key %s has signature status %q: WhatsApp clients will not use it", fp, got.SignatureStatus), "run: waflow keys upload")
	}
	for i, k := range cfg.OurKeys {
		if !keys.Equal(k, theirs) {
			continue
		}
		if i == 0 {
			return ok(name, fmt.Sprintf("Meta encrypts to our current key %s (signature VALID)", fp))
		}
		return warn(name, fmt.Sprintf("Meta holds our previous key %s (number %d of ours), not the current %s", fp, i+1, keys.Fingerprint(cfg.OurKeys[0])), "finish the rotation: waflow keys upload")
	}
	return fail(name, fmt.Sprintf("Meta holds key %s, ours is %s: every data-endpoint request fails to decrypt (421)", fp, keys.Fingerprint(cfg.OurKeys[0])),
		"run: waflow keys upload (or configure the private key that matches Meta's)")
}

// graphFix says what to do about a Graph API error.
func graphFix(err error) string {
	var e *graph.Error
	if errors.As(err, &e) {
		if h := e.Hint(); h != "" {
			return h
		}
	}
	if graph.IsAccessTokenError(err) {
		return "renew the access token (a system user's token does not expire)"
	}
	return "check the access token's permissions (whatsapp_business_management, whatsapp_business_messaging) and the ids"
}

func checkSubscription(ctx context.Context, cfg *Config) Check {
	if cfg.Graph == nil {
		return graphMissing("subscription", cfg)
	}
	return CheckSubscription(ctx, cfg.Graph, cfg.WABAID, cfg.AppID)
}

// SubscriptionLister lists the apps subscribed to a WABA; *graph.Client is
// one.
type SubscriptionLister interface {
	SubscribedApps(ctx context.Context, wabaID string) ([]graph.Application, error)
}

// CheckSubscription checks that an app (appID, when set) is subscribed to
// WABA wabaID: without one, WhatsApp sends the WABA's webhooks nowhere and
// Meta refuses to publish flows (139002, protocol.md 5.3). waflow doctor
// and waflow flows status run it.
func CheckSubscription(ctx context.Context, g SubscriptionLister, wabaID, appID string) Check {
	const name = "subscription"
	if wabaID == "" {
		return fail(name, "no WhatsApp Business Account id configured", "set WAFLOW_WABA_ID (or -waba-id): WhatsApp Manager, Account tools, shows it")
	}
	subscribe := fmt.Sprintf("subscribe the app with the token of its system user: curl -X POST -H \"Authorization: Bearer $TOKEN\" https://graph.facebook.com/%s/%s/subscribed_apps", graph.DefaultVersion, wabaID)
	apps, err := g.SubscribedApps(ctx, wabaID)
	if err != nil {
		return fail(name, fmt.Sprintf("cannot list the apps subscribed to WABA %s: %v", wabaID, err), graphFix(err))
	}
	if len(apps) == 0 {
		return fail(name, fmt.Sprintf("no app is subscribed to WABA %s: WhatsApp sends its webhooks (completions, flow status) nowhere, and Meta refuses to publish flows until one is", wabaID), subscribe)
	}
	var names []string
	found := appID == ""
	for _, a := range apps {
		names = append(names, fmt.Sprintf("%s (%s)", a.Name, a.ID))
		found = found || a.ID == appID
	}
	if !found {
		return fail(name, fmt.Sprintf("app %s is not subscribed to WABA %s (subscribed: %s)", appID, wabaID, strings.Join(names, ", ")), subscribe)
	}
	return ok(name, fmt.Sprintf("subscribed to WABA %s: %s", wabaID, strings.Join(names, ", ")))
}

// webhookFix says how to connect the webhook; the receiver stores only
// events whose X-Hub-Signature-256 verified, so one in the inbox proves
// the whole path.
const webhookFix = "in the app dashboard, WhatsApp > Configuration: callback URL PUBLIC_URL/webhook, the verify token of WAFLOW_VERIFY_TOKEN, and the messages field subscribed; the app secret must be in WAFLOW_APP_SECRET. Then send a message to the number and run doctor again"

func checkWebhook(ctx context.Context, cfg *Config) Check {
	const name = "webhook"
	if cfg.Store == nil {
		return fail(name, "cannot read the inbox: no database", "fix the database first")
	}
	ev, err := newestEvent(ctx, cfg.Store)
	if err != nil {
		return fail(name, fmt.Sprintf("cannot read the inbox: %v", err), "fix the database first")
	}
	if ev == nil {
		return warn(name, "no signed webhook has reached the inbox yet", webhookFix)
	}
	window := cfg.WebhookWindow
	if window <= 0 {
		window = 24 * time.Hour
	}
	ago := cfg.now().Sub(ev.ReceivedAt)
	detail := fmt.Sprintf("newest signed webhook event (%s) received %s ago", ev.Kind, ago.Round(time.Second))
	if ago > window {
		return warn(name, detail, "if messages were sent since, the callback no longer reaches us: "+webhookFix)
	}
	return ok(name, detail)
}

// newestEvent returns the inbox event with the largest id, nil when the
// inbox is empty. InboxEvents pages forward from an id, so it gallops then
// bisects on AfterID: O(log n) queries of one row each, whatever the size
// of the inbox.
func newestEvent(ctx context.Context, s Store) (*waflow.InboxEvent, error) {
	evs, err := s.InboxEvents(ctx, waflow.InboxFilter{Limit: 1})
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	best := evs[0]
	hi := int64(-1) // no event has an id above hi; -1 while unknown
	step := int64(1)
	for range 256 {
		var probe int64
		if hi < 0 {
			probe = best.ID + step - 1
			step *= 2
		} else {
			if hi <= best.ID {
				return &best, nil
			}
			probe = best.ID + (hi-best.ID)/2
		}
		evs, err := s.InboxEvents(ctx, waflow.InboxFilter{AfterID: probe, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(evs) > 0 {
			best = evs[0]
		} else {
			hi = probe
		}
	}
	return &best, nil
}

func checkFlows(ctx context.Context, cfg *Config) []Check {
	if len(cfg.Flows) == 0 {
		return nil
	}
	if cfg.Graph == nil {
		return []Check{graphMissing("flows", cfg)}
	}
	if cfg.WABAID == "" {
		return []Check{fail("flows", "no WhatsApp Business Account id configured", "set WAFLOW_WABA_ID (or -waba-id)")}
	}
	ids := map[string]string{}
	remote, err := cfg.Graph.ListFlows(ctx, cfg.WABAID)
	if err != nil {
		return []Check{fail("flows", fmt.Sprintf("cannot list the flows of WABA %s: %v", cfg.WABAID, err), graphFix(err))}
	}
	for _, f := range remote {
		ids[f.Name] = f.ID
	}
	// A deployment record names the flow this server deployed even if a
	// flow of the same name was made by hand.
	if cfg.Store != nil {
		if recs, err := cfg.Store.FlowDeployments(ctx, cfg.WABAID); err == nil {
			for _, r := range recs {
				ids[r.Flow] = r.FlowID
			}
		}
	}
	var out []Check
	for _, f := range cfg.Flows {
		out = append(out, checkFlow(ctx, cfg, f, ids[f.Name]))
	}
	return out
}

func checkFlow(ctx context.Context, cfg *Config, f Flow, id string) Check {
	name := "flow " + f.Name
	deployFix := "run: waflow flows deploy -publish " + f.Name
	if id == "" {
		if f.Required {
			return fail(name, "not on Meta", deployFix)
		}
		return warn(name, "not on Meta (fine if this deployment does not use it)", deployFix)
	}
	opts := &graph.GetFlowOptions{Fields: []string{"id", "name", "status", "endpoint_uri", "health_status"}, PhoneNumberID: cfg.PhoneNumberID}
	fl, err := cfg.Graph.GetFlow(ctx, id, opts)
	if err != nil {
		return fail(name, fmt.Sprintf("cannot read flow %s: %v", id, err), graphFix(err))
	}
	if fl.Status != "PUBLISHED" {
		return fail(name, fmt.Sprintf("flow %s is %s: customers cannot open it", id, fl.Status), deployFix)
	}
	detail := fmt.Sprintf("flow %s PUBLISHED", id)
	if f.UsesEndpoint {
		want, err := deploy.EndpointURI(cfg.PublicURL, f.Name)
		switch {
		case err != nil:
			return fail(name, fmt.Sprintf("cannot tell where endpoint_uri should point: %v", err), "set WAFLOW_PUBLIC_URL")
		case fl.EndpointURI != want:
			got := fl.EndpointURI
			if got == "" {
				got = "empty"
			}
			return fail(name, fmt.Sprintf("endpoint_uri is %s, want %s", got, want), "run: waflow flows deploy "+f.Name+" (it sets endpoint_uri from WAFLOW_PUBLIC_URL)")
		}
		detail += ", endpoint_uri " + want
	}
	if fl.HealthStatus == nil {
		return warn(name, detail+", no health_status in Meta's answer", "look at the flow in WhatsApp Manager")
	}
	can := fl.HealthStatus.CanSendMessage
	var why []string
	for _, e := range fl.HealthStatus.Entities {
		for _, issue := range e.Errors {
			s := fmt.Sprintf("%s %s: %s", e.EntityType, e.ID, issue.ErrorDescription)
			if issue.PossibleSolution != "" {
				s += " (" + issue.PossibleSolution + ")"
			}
			why = append(why, s)
		}
	}
	reasons := strings.Join(why, "; ")
	if reasons == "" {
		reasons = "Meta gives no reason"
	}
	switch can {
	case "AVAILABLE":
		return ok(name, detail+", can_send_message AVAILABLE")
	case "LIMITED":
		return warn(name, detail+", can_send_message LIMITED: "+reasons, "see the flow's health in WhatsApp Manager")
	}
	return fail(name, fmt.Sprintf("%s, can_send_message %s: %s", detail, can, reasons), "fix what Meta names, then run doctor again")
}

func checkClock(cfg *Config) Check {
	const name = "clock"
	remote, local, seen := cfg.GraphDate()
	if !seen {
		return warn(name, "no Graph API answer carried a Date header to compare with", "make sure the machine's clock is synchronised (timedatectl, chrony or ntpd)")
	}
	limit := cfg.MaxClockSkew
	if limit <= 0 {
		limit = time.Minute
	}
	skew := local.Sub(remote)
	// The Date header has whole seconds: round so the report is honest.
	skew = skew.Round(time.Second)
	abs := skew
	if abs < 0 {
		abs = -abs
	}
	ahead := "ahead of"
	if skew < 0 {
		ahead = "behind"
	}
	if abs > limit {
		return warn(name, fmt.Sprintf("the local clock is %s %s the Graph API's: flow tokens and signatures expire by it", abs, ahead),
			"synchronise the clock (timedatectl set-ntp true, or chrony/ntpd)")
	}
	if abs <= time.Second {
		return ok(name, fmt.Sprintf("the local clock agrees with the Graph API's Date to the second (tolerated: %s)", limit))
	}
	return ok(name, fmt.Sprintf("the local clock is %s %s the Graph API's (tolerated: %s)", abs, ahead, limit))
}
