package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waflow/waflow/signature"
)

// The crash test of the webhook path: the real waflow serve receives a few
// thousand signed completion webhooks from many senders, duplicates mixed
// in, and is killed with SIGKILL in the middle. Restarted, it gets again
// every webhook that did not get its 200, as WhatsApp would resend it. Then
// every webhook that got a 200 must be stored, and every completion acted on
// exactly once: one survey response per completion, none twice, none lost.

// crashWebhook is one completion as WhatsApp would deliver it.
type crashWebhook struct {
	wamid string
	body  []byte
}

func crashWebhooks(t *testing.T, env *e2eEnv, n int) []crashWebhook {
	t.Helper()
	out := make([]crashWebhook, n)
	for i := range out {
		waID := fmt.Sprintf("4917%08d", i)
		tok := env.issue("feedback_survey", waID)
		wamid := fmt.Sprintf("wamid.CRASH%06d%s", i, randomHex(4))
		rj, _ := json.Marshal(map[string]any{"flow_token": tok, "rating": fmt.Sprint(1 + i%5), "comments": "", "follow_up": false})
		body, _ := json.Marshal(map[string]any{
			"object": "whatsapp_business_account",
			"entry": []any{map[string]any{"id": "102290129340398", "time": time.Now().Unix(),
				"changes": []any{map[string]any{"field": "messages", "value": map[string]any{
					"messaging_product": "whatsapp",
					"metadata":          map[string]any{"display_phone_number": "15550001111", "phone_number_id": "106540352242922"},
					"messages": []any{map[string]any{"from": waID, "id": wamid, "timestamp": fmt.Sprint(time.Now().Unix()), "type": "interactive",
						"interactive": map[string]any{"type": "nfm_reply", "nfm_reply": map[string]any{"name": "flow", "body": "Sent", "response_json": string(rj)}}}},
				}}}}},
		})
		out[i] = crashWebhook{wamid: wamid, body: body}
	}
	return out
}

// sendAll posts deliveries (indexes into hooks) from senders goroutines to
// the server at base, and records which hooks got a 200. It stops early
// once stopAfter 200s were seen, when stopAfter > 0, and calls onStop.
func sendAll(t *testing.T, env *e2eEnv, base string, hooks []crashWebhook, deliveries []int, senders int, acked []atomic.Bool, stopAfter int64, onStop func()) {
	client := &http.Client{Timeout: 10 * time.Second}
	var next, oks atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(deliveries)) {
					return
				}
				h := hooks[deliveries[i]]
				req, _ := http.NewRequest(http.MethodPost, base+"/webhook", bytes.NewReader(h.body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(signature.Header, signature.Sign(env.appSecret, h.body))
				resp, err := client.Do(req)
				if err != nil {
					continue // the server is gone: WhatsApp would retry later
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					acked[deliveries[i]].Store(true)
					if stopAfter > 0 && oks.Add(1) == stopAfter {
						once.Do(onStop)
					}
				}
			}
		}()
	}
	wg.Wait()
}

func crashTest(t *testing.T, env *e2eEnv) {
	const completions, duplicates, senders = 2000, 500, 32
	hooks := crashWebhooks(t, env, completions)
	deliveries := rand.Perm(completions)
	for range duplicates {
		deliveries = append(deliveries, rand.IntN(completions))
	}
	rand.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
	acked := make([]atomic.Bool, completions)

	s := env.start()
	sendAll(t, env, s.base, hooks, deliveries, senders, acked, completions/2, s.Kill)
	if s.cmd.ProcessState == nil {
		t.Fatal("the server was not killed: fewer 200s than expected")
	}
	var before []int
	for i := range acked {
		if acked[i].Load() {
			before = append(before, i)
		}
	}
	// Every webhook that got its 200 before the kill is stored.
	ctx := context.Background()
	for _, i := range before {
		if _, err := env.store.InboxEventByKey(ctx, "msg:"+hooks[i].wamid); err != nil {
			t.Fatalf("webhook %s was answered 200 but is not stored: %v", hooks[i].wamid, err)
		}
	}
	// WhatsApp resends what was not acknowledged.
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
	// Everything is processed, once.
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, err := env.store.InboxStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending == 0 && st.Processing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbox not drained: %+v\n%s", st, s2.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	responses, err := env.store.SurveyResponses(ctx, time.Time{}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range responses {
		if seen[r.MessageID] {
			t.Fatalf("completion %s acted on twice", r.MessageID)
		}
		seen[r.MessageID] = true
	}
	for _, h := range hooks {
		if !seen[h.wamid] {
			ev, _ := env.store.InboxEventByKey(ctx, "msg:"+h.wamid)
			t.Fatalf("completion %s not acted on (event %s: %s)", h.wamid, ev.State, ev.LastError)
		}
		c, err := env.store.Completion(ctx, h.wamid)
		if err != nil || c.HandledAt.IsZero() {
			t.Fatalf("completion %s not recorded as handled: %+v, %v", h.wamid, c, err)
		}
	}
	if len(responses) != completions {
		t.Fatalf("%d survey responses, want %d", len(responses), completions)
	}
	t.Logf("%d webhooks (%d duplicates) from %d senders; %d acknowledged before SIGKILL; %d resent after restart; %d completions acted on once each",
		len(deliveries), duplicates, senders, len(before), len(retry), len(responses))
}

func TestWebhookCrashSQLite(t *testing.T) {
	// Its own processes, folders and schema; correctness, not timing, is
	// checked: it may overlap the other e2e tests (their time is mostly
	// waiting for their servers and leases).
	t.Parallel()
	if testing.Short() {
		t.Skip("crash test: builds and runs the waflow binary")
	}
	crashTest(t, newE2EEnv(t, ""))
}

func TestWebhookCrashPostgres(t *testing.T) {
	// Its own processes, folders and schema; correctness, not timing, is
	// checked: it may overlap the other e2e tests (their time is mostly
	// waiting for their servers and leases).
	t.Parallel()
	if testing.Short() {
		t.Skip("crash test: builds and runs the waflow binary")
	}
	crashTest(t, newE2EEnv(t, postgresE2EURL(t)))
}
