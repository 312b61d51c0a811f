package main

// The memory attack of issue 12: many connections sending bodies as large as
// a route accepts, with a wrong signature, against the real waflow serve.
// Before the signature check a body is only bytes from anyone, so what the
// server holds for them must be bounded, and signed traffic must still get
// through while the attack goes on.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waflow/waflow/envelope"
	"github.com/waflow/waflow/internal/racedetect"
	"github.com/waflow/waflow/signature"
)

const (
	// attackRSSBound is the resident memory the server must stay under,
	// at its peak (VmHWM), during the attack.
	attackRSSBound = 150_000_000
	// attackAfterBound is how much above its resident memory before the
	// attack the server may stay once the attack is over.
	attackAfterBound = 20_000_000
	attackConns      = 200
	attackDuration   = 3 * time.Second
)

// TestUnverifiedBodyMemory sends attackConns concurrent bodies as large as
// each route accepts (3 MiB to /webhook, 1 MiB to a data endpoint), signed
// with a wrong key, for attackDuration, while one client sends signed
// webhooks and signed data-endpoint pings. It reads the server's VmRSS and
// VmHWM before, during and after.
//
// WAFLOW_TEST_ATTACK_BINARY runs the same attack against another waflow
// binary (e.g. one built from an older commit, for comparison).
func TestUnverifiedBodyMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy: 200 connections sending megabytes for a few seconds; runs without -short")
	}
	phases := []struct {
		name, path string
		size       int
	}{
		{"webhook_3MiB", "/webhook", 3 << 20},
		{"endpoint_1MiB", "/flows/appointment_booking", 1 << 20},
	}
	for _, ph := range phases {
		t.Run(ph.name, func(t *testing.T) {
			env := newE2EEnv(t, "")
			env.binary = os.Getenv("WAFLOW_TEST_ATTACK_BINARY")
			s := env.start()
			r := attack(t, s, ph.path, ph.size)
			t.Logf("%s: %d connections x %d bytes for %v (last answer after %v): RSS before %.1f MB, during max %.1f MB (VmHWM %.1f MB), after %.1f MB; attack answers %v (%d transport errors); signed answers %v (%d errors, slowest %v)",
				ph.name, attackConns, ph.size, attackDuration, r.took.Round(time.Millisecond), mb(r.before), mb(r.during), mb(r.hwm), mb(r.after),
				sortedCounts(r.attack), r.attackErrs, sortedCounts(r.signed), r.signedErrs, r.signedSlowest.Round(time.Millisecond))
			if r.hwm > attackRSSBound {
				t.Errorf("peak resident memory %.1f MB, over the bound of %.0f MB", mb(r.hwm), mb(attackRSSBound))
			}
			if r.after > r.before+attackAfterBound {
				t.Errorf("resident memory after the attack %.1f MB, more than %.0f MB above the %.1f MB before", mb(r.after), mb(attackAfterBound), mb(r.before))
			}
			if r.attack[http.StatusServiceUnavailable] == 0 {
				if racedetect.Enabled {
					// The server is a plain build; the detector slows only
					// this client, which then may not have enough bytes in
					// flight at once to reach the bound (seen in CI).
					t.Logf("no attack request was answered 503: under -race this client did not reach the bound (the run without -race must)")
				} else {
					t.Errorf("no attack request was answered 503: the bound was never reached")
				}
			}
			ok := r.signed[http.StatusOK]
			if ok == 0 || ok != total(r.signed) || r.signedErrs != 0 {
				t.Errorf("signed traffic during the attack: answers %v, %d errors; want every one 200", sortedCounts(r.signed), r.signedErrs)
			}
		})
	}
}

type attackResult struct {
	before, during, hwm, after int64
	attack, signed             map[int]int
	attackErrs, signedErrs     int
	signedSlowest, took        time.Duration // informative only
}

func attack(t *testing.T, s *e2eServer, path string, size int) attackResult {
	pid := s.cmd.Process.Pid
	var r attackResult
	r.before, _ = procMemory(t, pid)

	body := bytes.Repeat([]byte{'x'}, size)
	badSig := "sha256=" + strings.Repeat("0", 64)
	ctx, cancel := context.WithTimeout(context.Background(), attackDuration)
	defer cancel()

	var mu sync.Mutex
	r.attack, r.signed = map[int]int{}, map[int]int{}
	count := func(m map[int]int, errs *int, status int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			*errs++
			return
		}
		m[status]++
	}

	var wg sync.WaitGroup
	attackClient := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: attackConns}}
	defer attackClient.CloseIdleConnections()
	for range attackConns {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequest(http.MethodPost, s.base+path, bytes.NewReader(body))
				req.Header.Set(signature.Header, badSig)
				resp, err := attackClient.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					count(r.attack, &r.attackErrs, resp.StatusCode, nil)
				} else {
					count(r.attack, &r.attackErrs, 0, err)
				}
			}
		})
	}

	// Signed traffic, one request at a time, on connections of its own.
	signedClient := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{}}
	defer signedClient.CloseIdleConnections()
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			start := time.Now()
			status, err := signedRequest(s, signedClient, i)
			count(r.signed, &r.signedErrs, status, err)
			mu.Lock()
			r.signedSlowest = max(r.signedSlowest, time.Since(start))
			mu.Unlock()
		}
	})
	attackStart := time.Now()

	// Resident memory during the attack, until its last request is
	// answered.
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	for sampling := true; sampling; {
		select {
		case <-finished:
			sampling = false
		case <-time.After(50 * time.Millisecond):
		}
		rss, _ := procMemory(t, pid)
		r.during = max(r.during, rss)
	}
	_, r.hwm = procMemory(t, pid)
	r.took = time.Since(attackStart)

	// After: the memory the attack took should go back to the system.
	// Wait for it up to 10 s; the value reported is the last one read.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.after, _ = procMemory(t, pid)
		if r.after <= r.before+attackAfterBound || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return r
}

// signedRequest sends the i-th signed request: a webhook notification or a
// data-endpoint ping, in turn.
func signedRequest(s *e2eServer, client *http.Client, i int) (int, error) {
	var path string
	var body []byte
	var sess *envelope.ClientSession
	if i%2 == 0 {
		path = "/webhook"
		body, _ = json.Marshal(map[string]any{
			"object": "whatsapp_business_account",
			"entry": []any{map[string]any{"id": "102290129340398", "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]any{"display_phone_number": "15550001111", "phone_number_id": "106540352242922"},
				"messages": []any{map[string]any{"from": "491700000000", "id": fmt.Sprintf("wamid.SIGNED%06d%s", i, randomHex(4)),
					"timestamp": fmt.Sprint(time.Now().Unix()), "type": "text", "text": map[string]any{"body": "hello"}}},
			}}}}},
		})
	} else {
		path = "/flows/appointment_booking"
		var err error
		body, sess, err = envelope.EncryptRequest(&s.env.key.PublicKey, []byte(`{"version":"3.0","action":"ping"}`), nil)
		if err != nil {
			return 0, err
		}
	}
	req, _ := http.NewRequest(http.MethodPost, s.base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(signature.Header, signature.Sign(s.env.appSecret, body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if sess != nil && resp.StatusCode == http.StatusOK {
		if _, err := sess.DecryptResponse(raw); err != nil {
			return 0, fmt.Errorf("the ping's answer does not decrypt: %w", err)
		}
	}
	return resp.StatusCode, nil
}

// procMemory reads VmRSS and VmHWM (resident memory now and at its peak) of
// process pid, in bytes.
func procMemory(t *testing.T, pid int) (rss, hwm int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading the server's memory: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			t.Fatalf("/proc/%d/status: %s: %v", pid, name, err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	if rss == 0 || hwm == 0 {
		t.Fatalf("/proc/%d/status has no VmRSS or VmHWM", pid)
	}
	return rss, hwm
}

func mb(b int64) float64 { return float64(b) / 1e6 }

func total(m map[int]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

// sortedCounts renders status counts as "200:12 503:40".
func sortedCounts(m map[int]int) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d:%d", k, m[k])
	}
	return "[" + b.String() + "]"
}

func TestAdmissionBounds(t *testing.T) {
	for _, tc := range []struct {
		body, conns string
		wantBody    int64
		wantConns   int
		err         string
	}{
		{"", "", 16, 1024, ""},
		{"64", "200", 64, 200, ""},
		{"4", "1", 4, 1, ""},
		{"3", "", 0, 0, "at least 4"},
		{"16MiB", "", 0, 0, "want a number of MiB"},
		{"", "0", 0, 0, "want a positive number"},
		{"", "many", 0, 0, "want a positive number"},
	} {
		cfg := &appConfig{bodyMemoryMiB: tc.body, maxConnections: tc.conns}
		body, conns, err := cfg.admissionBounds()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("body %q, connections %q: error %v, want one saying %q", tc.body, tc.conns, err, tc.err)
			}
			continue
		}
		if err != nil || body != tc.wantBody || conns != tc.wantConns {
			t.Errorf("body %q, connections %q: %d MiB, %d connections, %v; want %d, %d", tc.body, tc.conns, body, conns, err, tc.wantBody, tc.wantConns)
		}
	}
}
