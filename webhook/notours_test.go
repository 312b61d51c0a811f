package webhook_test

import (
	"strings"
	"testing"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/webhook"
)

// TestNotOursIsNotAWarning: completions of flow messages this server never
// sent (another tool on the number, or waflow bench -mode webhook) are
// rejected with an Info line each, not a Warn line each; a forged token is
// still a warning.
func TestNotOursIsNotAWarning(t *testing.T) {
	b := newBench(t, webhook.WorkerConfig{})
	for _, id := range []string{"wamid.bench1", "wamid.bench2", "wamid.bench3"} {
		b.complete(id, "wamid.never-sent", responseJSON("", map[string]any{"bench_message": 1}))
	}
	b.complete("wamid.forged", "", responseJSON("wf1.forged.token", map[string]any{}))
	b.drain()
	b.wantEvent("msg:wamid.bench1", waflow.InboxRejected, "context.id names no flow message")
	var notOurs, warned int
	for _, line := range strings.Split(b.logs.String(), "\n") {
		if !strings.Contains(line, "webhook event rejected") {
			continue
		}
		switch {
		case strings.Contains(line, "names no flow message") && strings.Contains(line, "level=INFO"):
			notOurs++
		case strings.Contains(line, "level=WARN"):
			warned++
		}
	}
	if notOurs != 3 || warned != 1 {
		t.Fatalf("%d Info lines for completions not ours (want 3), %d warnings (want 1, the forged token):\n%s", notOurs, warned, b.logs)
	}
}
