package doctor

import (
	"net/http"
	"sync"
	"time"
)

// DateRecorder is an http.RoundTripper that remembers the Date header of
// the newest answer and the local time it arrived, so the clock check can
// compare the two without a request of its own: give it to the Graph API
// client (graph.Options.HTTPClient) and its Last method to Config.GraphDate.
type DateRecorder struct {
	// Next sends the requests; http.DefaultTransport when nil.
	Next http.RoundTripper
	// Now is the local clock; time.Now when nil.
	Now func() time.Time

	mu            sync.Mutex
	remote, local time.Time
}

// RoundTrip sends r with Next and records the answer's Date header.
func (d *DateRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	next := d.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	if t, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
		now := time.Now
		if d.Now != nil {
			now = d.Now
		}
		d.mu.Lock()
		d.remote, d.local = t, now()
		d.mu.Unlock()
	}
	return resp, nil
}

// Last returns the newest Date header seen and the local time it arrived;
// ok is false before the first.
func (d *DateRecorder) Last() (remote, local time.Time, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.remote, d.local, !d.remote.IsZero()
}
