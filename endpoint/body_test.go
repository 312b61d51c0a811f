package endpoint

import (
	"bytes"
	"strings"
	"testing"
)

// TestReadBody checks the limit whatever length the client announced: the
// announced length only sizes the buffer, it is never trusted.
func TestReadBody(t *testing.T) {
	const limit = 100
	for _, tt := range []struct {
		name      string
		size      int
		announced int64
		want      int // bytes read: the body, or limit+1 when it is over
	}{
		{"unknown length", 50, -1, 50},
		{"exact", 50, 50, 50},
		{"announced too short", 80, 10, 80},
		{"announced too long", 20, 90, 20},
		{"empty", 0, 0, 0},
		{"at the limit", limit, limit, limit},
		{"over, announced", 500, 500, limit + 1},
		{"over, announced within the limit", 500, 60, limit + 1},
		{"over, unknown length", 500, -1, limit + 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Repeat("x", tt.size)
			got, err := readBody(strings.NewReader(body), tt.announced, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want || !bytes.Equal(got, []byte(body[:tt.want])) {
				t.Fatalf("read %d bytes, want %d", len(got), tt.want)
			}
		})
	}
}

// An announced length is not an allocation: a sender that announces the
// whole limit and sends two bytes gets a small buffer, and a body that does
// arrive in full is still read whole.
func TestReadBodyDoesNotTrustTheAnnouncedSize(t *testing.T) {
	const limit = 1 << 20
	got, err := readBody(strings.NewReader("{}"), limit, limit)
	if err != nil || string(got) != "{}" {
		t.Fatalf("readBody = %q, %v", got, err)
	}
	if cap(got) > initialBodyBuffer {
		t.Errorf("a 2-byte body announced as %d bytes took a %d-byte buffer, want at most %d", limit, cap(got), initialBodyBuffer)
	}
	full := bytes.Repeat([]byte("x"), limit)
	got, err = readBody(bytes.NewReader(full), limit, limit)
	if err != nil || !bytes.Equal(got, full) {
		t.Fatalf("a body of exactly the limit: %d bytes, %v", len(got), err)
	}
}
