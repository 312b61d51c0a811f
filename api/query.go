package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/responses"
)

// Page sizes of the responses listing.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// maxCursorLen bounds a cursor's text before it is decoded: a wamid is
// under 100 characters, so a real cursor is far shorter.
const maxCursorLen = 512

// listQuery is a parsed GET /api/v1/flows/{name}/responses query.
type listQuery struct {
	Since, Until time.Time
	Status       waflow.CompletionStatus
	Limit        int
	After        waflow.CompletionKey // zero: from the start
}

// queryError is a refused query: what was wrong, for the client.
type queryError struct {
	kind, msg string
}

func (e *queryError) Error() string { return e.msg }

func badFilter(format string, args ...any) error {
	return &queryError{"bad_filter", fmt.Sprintf(format, args...)}
}

var listParams = []string{"since", "until", "status", "limit", "cursor"}

// parseListQuery parses the query of a listing of flow's responses; a
// cursor must have been issued by c for the same flow and filters.
func parseListQuery(c cursors, flow string, q url.Values) (listQuery, error) {
	lq := listQuery{Limit: DefaultLimit}
	for k, vs := range q {
		if !slices.Contains(listParams, k) {
			return lq, badFilter("unknown parameter %q: want since, until, status, limit or cursor", k)
		}
		if len(vs) != 1 {
			return lq, badFilter("parameter %q given %d times", k, len(vs))
		}
	}
	for _, b := range []struct {
		name string
		dst  *time.Time
	}{{"since", &lq.Since}, {"until", &lq.Until}} {
		if s := q.Get(b.name); s != "" {
			t, err := responses.ParseTime(s)
			if err != nil {
				return lq, badFilter("%s: want RFC 3339 (2026-12-03T10:00:00Z) or a date (2026-12-03)", b.name)
			}
			*b.dst = t.UTC().Truncate(time.Microsecond) // what the stores keep
		}
	}
	if !lq.Since.IsZero() && !lq.Until.IsZero() && !lq.Until.After(lq.Since) {
		return lq, badFilter("until must be after since")
	}
	if s := q.Get("status"); s != "" {
		lq.Status = waflow.CompletionStatus(s)
		switch lq.Status {
		case waflow.CompletionRecorded, waflow.CompletionHandled, waflow.CompletionFailed, waflow.CompletionRejected:
		default:
			return lq, badFilter("status %q: want recorded, handled, failed or rejected", s)
		}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return lq, badFilter("limit: want a whole number from 1 to %d", MaxLimit)
		}
		lq.Limit = n
	}
	if s := q.Get("cursor"); s != "" {
		after, err := c.parse(s, lq.binding(flow))
		if err != nil {
			return lq, err
		}
		lq.After = after
	}
	return lq, nil
}

// binding is what a cursor is valid for: the flow and the filters, not
// the page size, which may change from page to page.
func (lq listQuery) binding(flow string) []byte {
	b := []byte(flow)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(micros(lq.Since)))
	b = binary.BigEndian.AppendUint64(b, uint64(micros(lq.Until)))
	return append(b, lq.Status...)
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// cursors issues and checks the opaque cursors of the responses listing:
// the key of the last response of a page, authenticated with HMAC-SHA256
// over it and the query it belongs to. A cursor cannot be altered, nor
// used with another flow or other filters, without the answer being 400.
type cursors struct{ key []byte }

const (
	cursorVersion = 1
	cursorMACLen  = 16 // 128 bits of HMAC-SHA256
)

var errBadCursor = &queryError{"bad_cursor", "cursor: not a cursor this server issued for this flow and these filters (since, until, status); start again without one"}

func (c cursors) mac(payload, binding []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(payload)
	m.Write(binding)
	return m.Sum(nil)[:cursorMACLen]
}

// issue returns the cursor that resumes after k.
func (c cursors) issue(k waflow.CompletionKey, binding []byte) string {
	p := []byte{cursorVersion}
	p = binary.BigEndian.AppendUint64(p, uint64(k.ReceivedAt.UnixMicro()))
	p = append(p, k.MessageID...)
	return base64.RawURLEncoding.EncodeToString(append(p, c.mac(p, binding)...))
}

// parse returns the key cursor s resumes after.
func (c cursors) parse(s string, binding []byte) (waflow.CompletionKey, error) {
	if len(s) > maxCursorLen {
		return waflow.CompletionKey{}, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 1+8+1+cursorMACLen || b[0] != cursorVersion {
		return waflow.CompletionKey{}, errBadCursor
	}
	p, tag := b[:len(b)-cursorMACLen], b[len(b)-cursorMACLen:]
	if !hmac.Equal(tag, c.mac(p, binding)) {
		return waflow.CompletionKey{}, errBadCursor
	}
	at := int64(binary.BigEndian.Uint64(p[1:9]))
	return waflow.CompletionKey{ReceivedAt: time.UnixMicro(at).UTC(), MessageID: string(p[9:])}, nil
}
