package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/waflow/waflow/doctor"
	"github.com/waflow/waflow/graph"
	"github.com/waflow/waflow/internal/storage"
)

func doctorCommand() *Command {
	return &Command{
		Name:    "doctor",
		Args:    "[FLOW...]",
		Summary: "check a deployment end to end and say what to fix",
		Help: `
Checks, one line each (OK, WARN or FAIL, and what to do):

  database      reachable and migrated
  https         PUBLIC_URL/healthz answers over TLS with a certificate that
                verifies and does not expire within 14 days
  key           the business public key Meta holds for the phone number is ours
  subscription  an app (-app-id: ours) is subscribed to the WABA's webhooks
  webhook       a signed webhook reached the inbox recently (-webhook-window)
  flow NAME     published, endpoint_uri pointing at PUBLIC_URL/flows/NAME,
                health_status can_send_message AVAILABLE
  clock         the local clock within a minute of the Graph API's Date

Every flow waflow knows is checked, a flow missing on Meta being a warning;
name flows to check only those, a missing one being a failure. Nothing is
changed on Meta's side; the database is opened as serve opens it (so a
database an older waflow left is migrated), never created. Exit status: 0
when nothing failed, 1 otherwise.`,
		Setup: func(fs *flag.FlagSet, env *Env) func(context.Context, []string) error {
			var cfg appConfig
			s := newSettings(fs, env)
			declareCLI(&cfg, s)
			appID := fs.String("app-id", "", "the Meta app id that must be subscribed to the WABA (default: any app)")
			window := fs.Duration("webhook-window", 24*time.Hour, "how recent the newest webhook must be")
			healthPath := fs.String("health-path", "/healthz", "the path fetched under the public URL for the https check (a reverse proxy may expose only /flows/ and /webhook)")
			caFile := fs.String("ca-file", "", "PEM file of CA certificates to trust besides the system's for the https check (a staging CA; WhatsApp trusts only public CAs)")
			return func(ctx context.Context, args []string) error {
				if err := s.resolve(); err != nil {
					return err
				}
				dc, closeAll, err := doctorConfig(ctx, env, &cfg, args)
				if err != nil {
					return err
				}
				defer closeAll()
				dc.AppID = *appID
				dc.HealthPath = *healthPath
				dc.WebhookWindow = *window
				if *caFile != "" {
					pool, err := x509.SystemCertPool()
					if err != nil {
						pool = x509.NewCertPool()
					}
					pem, err := os.ReadFile(*caFile)
					if err != nil {
						return err
					}
					if !pool.AppendCertsFromPEM(pem) {
						return fmt.Errorf("-ca-file %s: no PEM certificate in it", *caFile)
					}
					dc.HTTPClient = &http.Client{Timeout: 15 * time.Second,
						Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
				}
				checks := doctor.Run(ctx, dc)
				count := map[doctor.Status]int{}
				for _, c := range checks {
					fmt.Fprintln(env.Stdout, c)
					count[c.Status]++
				}
				fmt.Fprintf(env.Stdout, "%d checks: %d OK, %d WARN, %d FAIL\n", len(checks), count[doctor.OK], count[doctor.Warn], count[doctor.Fail])
				if doctor.Failed(checks) {
					return &exitError{code: 1}
				}
				return nil
			}
		},
	}
}

// doctorConfig copies the settings into a doctor.Config: the store, the
// Graph API client (recording the Date of its answers for the clock
// check), our public keys and the flows to check. A setting that is
// missing is not an error here: its check says what to set.
func doctorConfig(ctx context.Context, env *Env, cfg *appConfig, names []string) (doctor.Config, func(), error) {
	dc := doctor.Config{
		PublicURL:     cfg.graph.publicURL,
		WABAID:        cfg.graph.wabaID,
		PhoneNumberID: cfg.graph.phoneNumberID,
	}
	closeAll := func() {}
	flows, err := describeFlows(env)
	if err != nil {
		return dc, closeAll, err
	}
	if len(names) == 0 {
		names = flows.Names()
		for _, n := range names {
			dc.Flows = append(dc.Flows, doctor.Flow{Name: n, UsesEndpoint: usesEndpoint(flows.Flow(n).Source)})
		}
	} else {
		for _, n := range names {
			f := flows.Flow(n)
			if f == nil {
				return dc, closeAll, usagef("doctor", "no flow named %q (flows: %s)", n, strings.Join(flows.Names(), ", "))
			}
			dc.Flows = append(dc.Flows, doctor.Flow{Name: n, UsesEndpoint: usesEndpoint(f.Source), Required: true})
		}
	}
	log, err := cfg.logger(env)
	if err != nil {
		return dc, closeAll, err
	}

	// Without a configured key serve uses the development key; doctor
	// reads it but never makes one (ourPublicKeys would).
	devKey := filepath.Join(cfg.dataDir, "dev", "private.pem")
	if _, err := os.Stat(devKey); cfg.privateKey != "" || err == nil {
		dc.OurKeys, dc.KeysErr = ourPublicKeys(env, cfg)
	}

	dates := &doctor.DateRecorder{}
	dc.GraphDate = dates.Last
	if timeout, err := cfg.graph.requestTimeout(); err != nil {
		dc.GraphErr = err
	} else if c, err := graph.New(graph.Options{BaseURL: cfg.graph.baseURL, Version: cfg.graph.version, AccessToken: cfg.graph.accessToken,
		Timeout: timeout, HTTPClient: &http.Client{Transport: dates}, Retry: &graph.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Second, MaxDelay: 5 * time.Second}, Logger: log}); err != nil {
		dc.GraphErr = err
		if errors.Is(err, graph.ErrNoAccessToken) {
			dc.GraphErr = errNoAccessToken
		}
	} else {
		dc.Graph = c
	}

	// A SQLite file that is not there is a wrong data folder, not a
	// database to create.
	dbURL := cfg.databaseURLSetting
	if dbURL == "" {
		dbURL = filepath.Join(cfg.dataDir, "waflow.db")
	}
	if !storage.IsPostgres(dbURL) {
		if _, err := os.Stat(dbURL); err != nil {
			dc.StoreErr = fmt.Errorf("%w (is WAFLOW_DATA_DIR or WAFLOW_DATABASE_URL the one serve uses?)", err)
			return dc, closeAll, nil
		}
	}
	store, err := cfg.openStore(ctx, log)
	if err != nil {
		dc.StoreErr = err
		return dc, closeAll, nil
	}
	dc.Store = store
	return dc, func() { store.Close() }, nil
}
