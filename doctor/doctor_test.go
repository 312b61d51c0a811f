package doctor_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/deploy"
	"github.com/waflow/waflow/doctor"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/graph/graphtest"
	"github.com/waflow/waflow/keys"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/sqlite/sqlitetest"
)

// fixture is a healthy fake deployment: an HTTPS server answering
// /healthz, a fake Graph API holding our key, a subscribed app and two
// published flows pointing here, and a store with a recent webhook event.
type fixture struct {
	t      *testing.T
	cfg    doctor.Config
	graph  *graphtest.Server
	store  *sqlite.DB
	ours   *rsa.PublicKey
	health int // what /healthz answers
	dates  *doctor.DateRecorder
}

var (
	rsaKeysMu sync.Mutex // TestFailures' cases run in parallel
	rsaKeys   = map[int]*rsa.PrivateKey{}
)

func rsaKey(t *testing.T, n int) *rsa.PrivateKey {
	rsaKeysMu.Lock()
	defer rsaKeysMu.Unlock()
	if k := rsaKeys[n]; k != nil {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaKeys[n] = k
	return k
}

func pemOf(t *testing.T, pub *rsa.PublicKey) string {
	b, err := keys.MarshalPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newFixture(t *testing.T) *fixture {
	ctx := context.Background()
	f := &fixture{t: t, health: 200}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(f.health)
	}))
	srv.Config.ErrorLog = quiet // the failures below make handshakes fail
	srv.StartTLS()
	t.Cleanup(srv.Close)

	f.graph = graphtest.New(t)
	f.ours = &rsaKey(t, 0).PublicKey
	f.graph.SetKey(pemOf(t, f.ours), "VALID")
	f.graph.SubscribeApp("1000000000001", "waflow")
	for _, name := range []string{"appointment_booking", "feedback_survey"} {
		uri := ""
		if name == "appointment_booking" {
			uri, _ = deploy.EndpointURI(srv.URL, name)
		}
		f.graph.AddFlow(name, "PUBLISHED", []byte(`{}`), uri)
	}
	opts := f.graph.Options()
	f.dates = &doctor.DateRecorder{}
	opts.HTTPClient = &http.Client{Transport: f.dates}
	opts.Retry = &graph.RetryPolicy{MaxAttempts: 1}
	client, err := graph.New(opts)
	if err != nil {
		t.Fatal(err)
	}

	f.store, err = sqlite.Open(ctx, sqlitetest.Path(t), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Close() })
	f.addEvent("wamid.1", time.Now().Add(-5*time.Minute))

	f.cfg = doctor.Config{
		PublicURL:     srv.URL,
		HTTPClient:    srv.Client(),
		Graph:         client,
		GraphDate:     f.dates.Last,
		WABAID:        graphtest.WABAID,
		PhoneNumberID: graphtest.PhoneNumberID,
		OurKeys:       []*rsa.PublicKey{f.ours},
		Flows: []doctor.Flow{
			{Name: "appointment_booking", UsesEndpoint: true},
			{Name: "feedback_survey"},
		},
		Store: f.store,
	}
	return f
}

var quiet = log.New(io.Discard, "", 0)

// serveWith moves the public URL to a new HTTPS server with cert, trusted
// by pool, and points the endpoint flow there.
func (f *fixture) serveWith(cert tls.Certificate, pool *x509.CertPool) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = quiet
	srv.StartTLS()
	f.t.Cleanup(srv.Close)
	f.cfg.PublicURL = srv.URL
	f.cfg.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	uri, _ := deploy.EndpointURI(srv.URL, "appointment_booking")
	if err := f.cfg.Graph.(*graph.Client).UpdateFlow(context.Background(), f.graph.Flow("appointment_booking").ID, graph.FlowUpdate{EndpointURI: uri}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) addEvent(key string, at time.Time) {
	f.t.Helper()
	if _, err := f.store.AddEvents(context.Background(), []waflow.InboxEvent{{DedupeKey: key, Kind: waflow.EventMessage, Payload: []byte("{}"), ReceivedAt: at}}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) run() []doctor.Check {
	f.t.Helper()
	checks := doctor.Run(context.Background(), f.cfg)
	if v := f.graph.Violations(); len(v) > 0 {
		f.t.Errorf("requests of the wrong shape: %q", v)
	}
	return checks
}

func format(checks []doctor.Check) string {
	var b strings.Builder
	for _, c := range checks {
		b.WriteString(c.String() + "\n")
	}
	return b.String()
}

func TestHealthy(t *testing.T) {
	f := newFixture(t)
	checks := f.run()
	t.Logf("healthy deployment:\n%s", format(checks))
	want := []string{"database", "https", "key", "subscription", "webhook", "flow appointment_booking", "flow feedback_survey", "clock"}
	if len(checks) != len(want) {
		t.Fatalf("%d checks, want %d:\n%s", len(checks), len(want), format(checks))
	}
	for i, c := range checks {
		if c.Name != want[i] || c.Status != doctor.OK || c.Fix != "" {
			t.Errorf("check %d = %s, want OK %s", i, c, want[i])
		}
	}
	if doctor.Failed(checks) {
		t.Error("Failed = true")
	}
}

// selfSigned returns a certificate for 127.0.0.1 valid until notAfter,
// and a pool trusting it.
func selfSigned(t *testing.T, notAfter time.Time) (tls.Certificate, *x509.CertPool) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "flows.test"},
		DNSNames: []string{"flows.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: leaf}, pool
}

// Each failure the doctor knows, made on a healthy deployment: the check
// that finds it, its verdict, and words of its detail and fix.
func TestFailures(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(f *fixture)
		check  string
		status doctor.Status
		detail string
		fix    string
	}{
		{"untrusted certificate", func(f *fixture) {
			f.cfg.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}
		},
			"https", doctor.Fail, "not signed by a trusted CA", "WAFLOW_TLS_DOMAINS"},
		{"certificate expiring", func(f *fixture) {
			f.serveWith(selfSigned(f.t, time.Now().Add(3*24*time.Hour)))
		}, "https", doctor.Warn, "expires in 2 days", "renew the certificate"},
		{"certificate expired", func(f *fixture) {
			f.serveWith(selfSigned(f.t, time.Now().Add(-time.Minute)))
		}, "https", doctor.Fail, "has expired", "renew"},
		{"wrong host", func(f *fixture) {
			f.cfg.HTTPClient.Transport.(*http.Transport).TLSClientConfig.ServerName = "flows.example.org"
		}, "https", doctor.Fail, "not this host", "naming the public URL's host"},
		{"plain http", func(f *fixture) { f.cfg.PublicURL = "http://flows.example.com" },
			"https", doctor.Fail, "is not https", "WAFLOW_TLS_DOMAINS"},
		{"no public URL", func(f *fixture) { f.cfg.PublicURL = "" },
			"https", doctor.Fail, "no public URL", "WAFLOW_PUBLIC_URL"},
		{"nothing listening", func(f *fixture) { f.cfg.PublicURL = "https://127.0.0.1:1" },
			"https", doctor.Fail, "connection refused", "port 443"},
		{"server not ready", func(f *fixture) { f.health = 503 },
			"https", doctor.Fail, "answered HTTP 503", "/readyz"},
		{"health path not forwarded", func(f *fixture) { f.cfg.HealthPath = "/elsewhere" },
			"https", doctor.Warn, "answered 404", "reverse proxy"},

		{"no key on Meta", func(f *fixture) { f.graph.SetKey("", "") },
			"key", doctor.Fail, "no business public key", "waflow keys upload"},
		{"another key on Meta", func(f *fixture) { f.graph.SetKey(pemOf(f.t, &rsaKey(f.t, 1).PublicKey), "VALID") },
			"key", doctor.Fail, "fails to decrypt (421)", "waflow keys upload"},
		{"signature mismatch", func(f *fixture) { f.graph.SetKey(pemOf(f.t, f.ours), "MISMATCH") },
			"key", doctor.Fail, `signature status "MISMATCH"`, "waflow keys upload"},
		{"rotation unfinished", func(f *fixture) {
			f.cfg.OurKeys = []*rsa.PublicKey{&rsaKey(f.t, 1).PublicKey, f.ours}
		}, "key", doctor.Warn, "our previous key", "waflow keys upload"},
		{"private key unreadable", func(f *fixture) {
			f.cfg.OurKeys, f.cfg.KeysErr = nil, errors.New("keys: the private key is encrypted and no passphrase was given")
		},
			"key", doctor.Fail, "cannot read our private key: keys: the private key is encrypted", "WAFLOW_PRIVATE_KEY_PASSPHRASE_FILE"},
		{"no private key", func(f *fixture) { f.cfg.OurKeys = nil },
			"key", doctor.Fail, "no private key configured", "WAFLOW_PRIVATE_KEY_FILE"},
		{"no phone number id", func(f *fixture) { f.cfg.PhoneNumberID = "" },
			"key", doctor.Fail, "no phone number id", "WAFLOW_PHONE_NUMBER_ID"},
		{"expired token", func(f *fixture) { f.graph.SetToken("another") },
			"key", doctor.Fail, "Session has expired", "token"},
		{"no Graph client", func(f *fixture) { f.cfg.Graph, f.cfg.GraphErr = nil, errors.New("no Graph API access token") },
			"subscription", doctor.Fail, "no Graph API access token", "WAFLOW_GRAPH_ACCESS_TOKEN_FILE"},

		{"no app subscribed", func(f *fixture) {
			fresh := graphtest.New(f.t)
			fresh.SetKey(pemOf(f.t, f.ours), "VALID")
			c, _ := graph.New(fresh.Options())
			f.cfg.Graph = c
			f.cfg.Flows = nil
		}, "subscription", doctor.Fail, "no app is subscribed", "subscribed_apps"},
		{"another app subscribed", func(f *fixture) { f.cfg.AppID = "42" },
			"subscription", doctor.Fail, "app 42 is not subscribed", "subscribed_apps"},

		{"no webhook yet", func(f *fixture) {
			s, err := sqlite.Open(context.Background(), filepath.Join(f.t.TempDir(), "empty.db"), sqlite.Options{})
			if err != nil {
				f.t.Fatal(err)
			}
			f.t.Cleanup(func() { s.Close() })
			f.cfg.Store = s
		}, "webhook", doctor.Warn, "no signed webhook", "callback URL"},
		{"webhooks stopped", func(f *fixture) { f.cfg.Now = func() time.Time { return time.Now().Add(72 * time.Hour) } },
			"webhook", doctor.Warn, "received 72h5m", "no longer reaches us"},

		{"flow in draft", func(f *fixture) {
			f.graph.AddFlow("survey_draft", "DRAFT", []byte(`{}`), "")
			f.cfg.Flows = append(f.cfg.Flows, doctor.Flow{Name: "survey_draft"})
		}, "flow survey_draft", doctor.Fail, "is DRAFT", "waflow flows deploy -publish survey_draft"},
		{"endpoint elsewhere", func(f *fixture) { f.cfg.PublicURL = strings.Replace(f.cfg.PublicURL, "127.0.0.1", "localhost", 1) },
			"flow appointment_booking", doctor.Fail, "endpoint_uri is https://127.0.0.1:", "waflow flows deploy appointment_booking"},
		{"flow blocked", func(f *fixture) { f.graph.SetFlowHealth("feedback_survey", "BLOCKED") },
			"flow feedback_survey", doctor.Fail, "can_send_message BLOCKED: PHONE_NUMBER", "fix what Meta names"},
		{"flow limited", func(f *fixture) { f.graph.SetFlowHealth("feedback_survey", "LIMITED") },
			"flow feedback_survey", doctor.Warn, "can_send_message LIMITED", "health"},
		{"flow not deployed", func(f *fixture) { f.cfg.Flows = append(f.cfg.Flows, doctor.Flow{Name: "expense_report"}) },
			"flow expense_report", doctor.Warn, "not on Meta", "waflow flows deploy -publish expense_report"},
		{"named flow not deployed", func(f *fixture) { f.cfg.Flows = []doctor.Flow{{Name: "expense_report", Required: true}} },
			"flow expense_report", doctor.Fail, "not on Meta", "waflow flows deploy"},

		{"clock behind", func(f *fixture) { f.graph.SetClock(func() time.Time { return time.Now().Add(3 * time.Minute) }) },
			"clock", doctor.Warn, "behind the Graph API's", "synchronise the clock"},
		{"clock ahead", func(f *fixture) { f.graph.SetClock(func() time.Time { return time.Now().Add(-90 * time.Second) }) },
			"clock", doctor.Warn, "ahead of the Graph API's", "synchronise"},

		{"database unreachable", func(f *fixture) { f.cfg.Store, f.cfg.StoreErr = nil, errors.New("unable to open database file") },
			"database", doctor.Fail, "unable to open database file", "WAFLOW_DATABASE_URL"},
		{"database closed", func(f *fixture) { f.store.Close() },
			"database", doctor.Fail, "does not answer", "database server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each case has its own servers, fake and database
			f := newFixture(t)
			tt.break_(f)
			checks := f.run()
			var got *doctor.Check
			for i := range checks {
				if checks[i].Name == tt.check {
					got = &checks[i]
				}
			}
			if got == nil {
				t.Fatalf("no %q check:\n%s", tt.check, format(checks))
			}
			if got.Status != tt.status || !strings.Contains(got.Detail, tt.detail) || !strings.Contains(got.Fix, tt.fix) {
				t.Errorf("got  %s\nwant %s %s: …%s…. Fix: …%s…", got, tt.status, tt.check, tt.detail, tt.fix)
			}
			if doctor.Failed(checks) != (tt.status == doctor.Fail) {
				// Only the broken check may change: the others stay OK.
				t.Errorf("Failed = %v with the %s check %s:\n%s", doctor.Failed(checks), tt.check, got.Status, format(checks))
			}
			if testing.Verbose() {
				t.Log(got)
			}
		})
	}
}

// The newest event is found whatever the inbox's size and the gaps in its
// ids.
func TestNewestEventOfALargeInbox(t *testing.T) {
	f := newFixture(t)
	base := time.Now().Add(-48 * time.Hour)
	var evs []waflow.InboxEvent
	for i := range 1500 {
		evs = append(evs, waflow.InboxEvent{DedupeKey: fmt.Sprintf("bulk-%d", i), Kind: waflow.EventStatus, Payload: []byte("{}"), ReceivedAt: base})
	}
	if _, err := f.store.AddEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	f.addEvent("newest", time.Now().Add(-time.Minute))
	for _, c := range f.run() {
		if c.Name == "webhook" && (c.Status != doctor.OK || !strings.Contains(c.Detail, "received 1m0s ago")) {
			t.Errorf("webhook check = %s", c)
		}
	}
}
