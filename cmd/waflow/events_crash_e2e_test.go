package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/events"
	"github.com/waflow/waflow/signature"
	"github.com/waflow/waflow/stdwebhooks"
)

// The crash test of events and the relay: the real waflow serve receives
// signed completion webhooks under load while the business's receiver is
// down (503), is killed with SIGKILL in the middle, restarted, gets again
// what was not acknowledged, and then the receiver comes up. Every
// completion must reach the receiver as a flow.completed event, signed
// (Standard Webhooks) and always under the same webhook-id, and every
// webhook Meta sent must be relayed byte for byte with a valid
// X-Hub-Signature-256: none lost. Duplicates (at least once) are counted,
// not failed.

// businessReceiver is the business's side: events at /events, relayed
// webhooks at /relay.
type businessReceiver struct {
	up        atomic.Bool
	verifier  *stdwebhooks.Verifier
	appSecret []byte

	mu       sync.Mutex
	eventIDs map[string]map[string]bool // message_id -> webhook-ids seen
	events   int                        // event requests accepted
	relayed  map[[32]byte]int           // body hash -> deliveries
	badSigs  int
	refused  int
	mismatch []string
}

func (b *businessReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !b.up.Load() {
		b.mu.Lock()
		b.refused++
		b.mu.Unlock()
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch r.URL.Path {
	case "/events":
		if err := b.verifier.Verify(r.Header, body); err != nil {
			b.badSigs++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			Data struct {
				MessageID string         `json:"message_id"`
				Response  map[string]any `json:"response"`
			} `json:"data"`
		}
		json.Unmarshal(body, &p)
		id := r.Header.Get("webhook-id")
		if p.ID != id || p.Type != events.FlowCompleted || id != events.ID(events.FlowCompleted, p.Data.MessageID) || p.Data.Response["rating"] == nil {
			b.mismatch = append(b.mismatch, fmt.Sprintf("webhook-id %s, payload id %s, type %s, message %s", id, p.ID, p.Type, p.Data.MessageID))
		}
		if b.eventIDs[p.Data.MessageID] == nil {
			b.eventIDs[p.Data.MessageID] = map[string]bool{}
		}
		b.eventIDs[p.Data.MessageID][id] = true
		b.events++
	case "/relay":
		if err := signature.Verify(body, r.Header.Get(signature.Header), b.appSecret); err != nil {
			b.badSigs++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		b.relayed[sha256.Sum256(body)]++
	default:
		http.NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func eventsCrashTest(t *testing.T, env *e2eEnv) {
	const completions, duplicates, senders = 600, 150, 16
	secret := stdwebhooks.NewSecret()
	v, _ := stdwebhooks.NewVerifier(secret)
	rcv := &businessReceiver{verifier: v, appSecret: env.appSecret, eventIDs: map[string]map[string]bool{}, relayed: map[[32]byte]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rcv}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	file := filepath.Join(env.dir, "events.json")
	sub, _ := json.Marshal(events.File{Subscriptions: []waflow.Subscription{{ID: "crm", URL: base + "/events", Secret: secret, Types: []string{events.FlowCompleted}}}})
	if err := os.WriteFile(file, sub, 0o600); err != nil {
		t.Fatal(err)
	}
	env.extraEnv = append(env.extraEnv,
		"WAFLOW_EVENTS_FILE="+file,
		"WAFLOW_WEBHOOK_FORWARD_URL="+base+"/relay",
		// Fast retries, many of them: nothing dies while the receiver is down.
		"WAFLOW_EVENTS_RETRY_SCHEDULE=100ms,250ms,500ms,1s"+strings.Repeat(",2s", 40),
		"WAFLOW_EVENTS_TIMEOUT=2s", "WAFLOW_EVENTS_LEASE=3s", "WAFLOW_EVENTS_POLL=100ms",
	)

	hooks := crashWebhooks(t, env, completions)
	deliveries := rand.Perm(completions)
	for range duplicates {
		deliveries = append(deliveries, rand.IntN(completions))
	}
	rand.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
	acked := make([]atomic.Bool, completions)

	// Up while the first server works, so that deliveries are in flight
	// when it is killed; down from the kill until a while after the
	// restart.
	rcv.up.Store(true)
	s := env.start()
	sendAll(t, env, s.base, hooks, deliveries, senders, acked, completions/2, func() { rcv.up.Store(false); s.Kill() })
	if s.cmd.ProcessState == nil {
		t.Fatal("the server was not killed: fewer 200s than expected")
	}
	s2 := env.start()
	var retry []int
	for i := range acked {
		if !acked[i].Load() {
			retry = append(retry, i)
		}
	}
	sendAll(t, env, s2.base, hooks, retry, senders, acked, 0, nil)
	for i := range acked {
		if !acked[i].Load() {
			t.Fatalf("webhook %d never got a 200", i)
		}
	}
	time.Sleep(time.Second) // the receiver stays down a while longer
	rcv.up.Store(true)

	deadline := time.Now().Add(120 * time.Second)
	for {
		rcv.mu.Lock()
		nEvents, nRelayed := len(rcv.eventIDs), len(rcv.relayed)
		rcv.mu.Unlock()
		if nEvents == completions && nRelayed == completions {
			break
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			events.List(context.Background(), env.store, waflow.DeliveryDead, &b)
			t.Fatalf("%d of %d events and %d of %d webhooks delivered; dead:\n%s\n%s", nEvents, completions, nRelayed, completions, b.String(), s2.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.badSigs > 0 || len(rcv.mismatch) > 0 {
		t.Fatalf("%d bad signatures; mismatches: %v", rcv.badSigs, rcv.mismatch)
	}
	for _, h := range hooks {
		ids := rcv.eventIDs[h.wamid]
		if len(ids) != 1 {
			t.Fatalf("completion %s: webhook-ids %v, want one", h.wamid, ids)
		}
		if rcv.relayed[sha256.Sum256(h.body)] == 0 {
			t.Fatalf("webhook %s not relayed byte for byte", h.wamid)
		}
	}
	dead, _ := env.store.Deliveries(context.Background(), waflow.DeliveryFilter{State: waflow.DeliveryDead})
	if len(dead) != 0 {
		t.Fatalf("%d dead deliveries: %+v", len(dead), dead[0])
	}
	var extraRelays int
	for _, n := range rcv.relayed {
		extraRelays += n - 1
	}
	t.Logf("%d webhooks (%d duplicates) from %d senders, SIGKILL after %d acknowledged, %d resent; receiver refused %d requests while down; "+
		"%d events and %d relayed webhooks delivered, each event under one webhook-id; %d events and %d relays delivered more than once",
		len(deliveries), duplicates, senders, completions-len(retry), len(retry), rcv.refused, len(rcv.eventIDs), len(rcv.relayed), rcv.events-len(rcv.eventIDs), extraRelays)
}

func TestEventsCrashSQLite(t *testing.T) {
	// Its own processes, folders and schema; correctness, not timing, is
	// checked: it may overlap the other e2e tests (their time is mostly
	// waiting for their servers and leases).
	t.Parallel()
	if testing.Short() {
		t.Skip("crash test: builds and runs the waflow binary")
	}
	eventsCrashTest(t, newE2EEnv(t, ""))
}

func TestEventsCrashPostgres(t *testing.T) {
	// Its own processes, folders and schema; correctness, not timing, is
	// checked: it may overlap the other e2e tests (their time is mostly
	// waiting for their servers and leases).
	t.Parallel()
	if testing.Short() {
		t.Skip("crash test: builds and runs the waflow binary")
	}
	eventsCrashTest(t, newE2EEnv(t, postgresE2EURL(t)))
}
