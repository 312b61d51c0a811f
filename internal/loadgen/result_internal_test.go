package loadgen

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i + 1)
	}
	for _, tt := range []struct {
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{hundred, 50, 50}, {hundred, 90, 90}, {hundred, 99, 99}, {hundred, 100, 100},
		{hundred[:10], 99, 10}, {hundred[:10], 50, 5},
		{hundred[:1], 50, 1}, {nil, 50, 0},
	} {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("p%d of %d values = %d, want %d", tt.p, len(tt.sorted), got, tt.want)
		}
	}
}

func TestWebhookDuplicates(t *testing.T) {
	s := &webhookSource{opts: WebhookOptions{DuplicateRatio: 0.5}}
	var got []int64
	for i := range int64(7) {
		got = append(got, s.message(i))
	}
	if want := []int64{0, 1, 1, 2, 2, 3, 3}; !equal(got, want) {
		t.Errorf("messages %v, want %v", got, want)
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
