package responses

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"regexp"
	"strings"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/flowjson"
)

// Format is an export format.
type Format string

// The export formats.
const (
	CSV       Format = "csv"
	JSONLines Format = "jsonl"
	JSON      Format = "json"
)

// ParseFormat returns the format named s: csv, jsonl or json.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case CSV, JSONLines, JSON:
		return f, nil
	}
	return "", fmt.Errorf("responses: unknown format %q: want csv, jsonl or json", s)
}

// FixedColumns are the first columns of a CSV export, in order. The user
// is named by whichever identifiers Meta sent (protocol.md 4.2): wa_id, the
// phone number, is empty for a user with a username who keeps it hidden;
// user_id is the business-scoped user id, parent_user_id its parent, and
// username the user's WhatsApp username.
var FixedColumns = []string{"received_at", "message_id", "wa_id", "user_id", "parent_user_id", "username", "status"}

// ExtraColumn is the last column of a CSV export: the keys of a response
// that are not among the flow's fields, as a JSON object.
const ExtraColumn = "extra"

// tokenKey is the key of response_json that holds the flow token.
const tokenKey = "flow_token"

// Fields returns the fields of flow's completion payload: the keys of the
// payloads of its complete actions, screen by screen and key by key as the
// Flow JSON writes them, each once, flow_token left out. It returns none for
// a flow that completes through its data endpoint (the completion then
// carries the endpoint's parameters, which the Flow JSON does not name).
func Fields(flow *flowjson.Flow) []string {
	var out []string
	seen := map[string]bool{tokenKey: true}
	for _, s := range flow.Screens {
		for _, a := range s.Actions() {
			if a.Action.Name != flowjson.ActionComplete {
				continue
			}
			for _, k := range a.Action.PayloadKeys() {
				if !seen[k] {
					seen[k] = true
					out = append(out, k)
				}
			}
		}
	}
	return out
}

// MaxDiscovered bounds the fields DiscoverFields returns.
const MaxDiscovered = 200

// DiscoverFields returns the keys the responses of seq hold, in the order
// first seen, flow_token left out, at most MaxDiscovered (the others go to
// the extra column). It reads seq once, in constant memory but for the keys.
func DiscoverFields(seq iter.Seq2[waflow.Completion, error]) ([]string, error) {
	var out []string
	seen := map[string]bool{tokenKey: true}
	for c, err := range seq {
		if err != nil {
			return nil, err
		}
		_ = eachMember(c.Response, func(k string, _ json.RawMessage) {
			if !seen[k] && len(out) < MaxDiscovered {
				seen[k] = true
				out = append(out, k)
			}
		})
	}
	return out, nil
}

// Writer writes completions in one format. Call Close when done: it writes
// what is buffered (and, for JSON, the closing bracket).
type Writer struct {
	format Format
	bw     *bufio.Writer
	cw     *csv.Writer
	fields []string
	index  map[string]int
	cells  []string
	n      int
	buf    []byte // reused between rows
	extra  bytes.Buffer
	err    error
}

// NewWriter returns a Writer of format f to w. fields are the flow's fields,
// the CSV columns between the fixed ones and extra (see Fields and
// DiscoverFields); JSON Lines and JSON ignore them. For CSV, it writes the
// header row at once.
func NewWriter(w io.Writer, f Format, fields []string) (*Writer, error) {
	if _, err := ParseFormat(string(f)); err != nil {
		return nil, err
	}
	wr := &Writer{format: f, bw: bufio.NewWriterSize(w, 64<<10), fields: fields, index: map[string]int{}}
	switch f {
	case CSV:
		wr.cw = csv.NewWriter(wr.bw)
		header := make([]string, 0, len(FixedColumns)+len(fields)+1)
		header = append(header, FixedColumns...)
		for i, k := range fields {
			if k == tokenKey {
				return nil, fmt.Errorf("responses: %s is not exported", tokenKey)
			}
			if _, dup := wr.index[k]; dup {
				return nil, fmt.Errorf("responses: field %q given twice", k)
			}
			wr.index[k] = len(FixedColumns) + i
			header = append(header, k)
		}
		header = append(header, ExtraColumn)
		for i, h := range header {
			header[i] = Neutralize(h)
		}
		wr.cells = make([]string, len(header))
		wr.err = wr.cw.Write(header)
	case JSON:
		_, wr.err = wr.bw.WriteString("[")
	}
	return wr, wr.err
}

// Write writes one completion.
func (w *Writer) Write(c waflow.Completion) error {
	if w.err != nil {
		return w.err
	}
	switch w.format {
	case CSV:
		w.err = w.writeCSV(c)
	default:
		w.err = w.writeJSON(c)
	}
	w.n++
	return w.err
}

// Close writes what is buffered and ends the document; it does not close
// the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	switch w.format {
	case CSV:
		w.cw.Flush()
		w.err = w.cw.Error()
	case JSON:
		if w.n > 0 {
			_, w.err = w.bw.WriteString("\n]\n")
		} else {
			_, w.err = w.bw.WriteString("]\n")
		}
	}
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	if w.err == nil {
		w.err = errClosed
		return nil
	}
	return w.err
}

var errClosed = errors.New("responses: writer closed")

// Export writes every completion seq yields to w in format f (see
// NewWriter for fields) and returns how many it wrote. It stops at the
// first error, seq's or w's.
func Export(w io.Writer, f Format, fields []string, seq iter.Seq2[waflow.Completion, error]) (int, error) {
	wr, err := NewWriter(w, f, fields)
	if err != nil {
		return 0, err
	}
	n := 0
	for c, err := range seq {
		if err != nil {
			return n, err
		}
		if err := wr.Write(c); err != nil {
			return n, err
		}
		n++
	}
	return n, wr.Close()
}

func (w *Writer) writeCSV(c waflow.Completion) error {
	for i := range w.cells {
		w.cells[i] = ""
	}
	w.cells[0] = timeText(c.ReceivedAt)
	w.cells[1] = c.MessageID
	w.cells[2] = c.WAID
	w.cells[3] = c.UserID
	w.cells[4] = c.ParentUserID
	// A username is chosen by the user: "@ana" would be a formula.
	w.cells[5] = Neutralize(c.Username)
	w.cells[6] = string(c.Status)
	w.extra.Reset()
	err := eachMember(c.Response, func(k string, v json.RawMessage) {
		if k == tokenKey {
			return
		}
		if i, ok := w.index[k]; ok {
			w.cells[i] = w.cellText(v)
			return
		}
		if w.extra.Len() == 0 {
			w.extra.WriteByte('{')
		} else {
			w.extra.WriteByte(',')
		}
		w.extra.Write(quote(k))
		w.extra.WriteByte(':')
		json.Compact(&w.extra, v) // v is valid JSON
	})
	if err != nil && json.Valid(c.Response) {
		// Not an object: kept whole in extra.
		json.Compact(&w.extra, c.Response)
	} else if w.extra.Len() > 0 {
		w.extra.WriteByte('}')
	}
	w.cells[len(w.cells)-1] = w.extra.String()
	for i, s := range w.cells {
		w.cells[i] = Neutralize(s)
	}
	return w.cw.Write(w.cells)
}

// cellText is a JSON value as a cell: a string as it is, null as nothing,
// anything else as compact JSON.
func (w *Writer) cellText(v json.RawMessage) string {
	switch {
	case len(v) == 0 || string(v) == "null":
		return ""
	case v[0] == '"':
		return unquote(v)
	case v[0] == '{' || v[0] == '[':
		var b bytes.Buffer
		if json.Compact(&b, v) == nil {
			return b.String()
		}
	}
	return string(v)
}

func (w *Writer) writeJSON(c waflow.Completion) error {
	b := w.buf[:0]
	if w.format == JSON {
		if w.n > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	str := func(key, v string, first bool) {
		if first {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		b = appendQuoted(b, v)
	}
	str("message_id", c.MessageID, true)
	str("flow", c.Flow, false)
	str("token_id", c.TokenID, false)
	str("wa_id", c.WAID, false)
	str("user_id", c.UserID, false)
	str("parent_user_id", c.ParentUserID, false)
	str("username", c.Username, false)
	str("context_id", c.ContextID, false)
	str("status", string(c.Status), false)
	str("result", c.Result, false)
	str("received_at", timeText(c.ReceivedAt), false)
	str("completed_at", timeText(c.CompletedAt), false)
	if c.HandledAt.IsZero() {
		b = append(b, `,"handled_at":null`...)
	} else {
		str("handled_at", timeText(c.HandledAt), false)
	}
	b = append(b, `,"response":`...)
	w.extra.Reset()
	w.extra.WriteByte('{')
	err := eachMember(c.Response, func(k string, v json.RawMessage) {
		if k == tokenKey {
			return
		}
		if w.extra.Len() > 1 {
			w.extra.WriteByte(',')
		}
		w.extra.Write(quote(k))
		w.extra.WriteByte(':')
		json.Compact(&w.extra, v)
	})
	switch {
	case err == nil:
		w.extra.WriteByte('}')
		b = append(b, w.extra.Bytes()...)
	case json.Valid(c.Response):
		w.extra.Reset()
		json.Compact(&w.extra, c.Response)
		b = append(b, w.extra.Bytes()...)
	default:
		b = append(b, "null"...)
	}
	b = append(b, '}')
	if w.format == JSONLines {
		b = append(b, '\n')
	}
	w.buf = b
	_, err = w.bw.Write(b)
	return err
}

// eachMember calls fn with each member of the JSON object obj, in order,
// the value as written; it fails when obj is not a valid JSON object. It
// scans obj itself rather than through a json.Decoder, which allocated a
// hundred times per row and took most of an export's time.
func eachMember(obj []byte, fn func(key string, v json.RawMessage)) error {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' || !json.Valid(obj) {
		return errors.New("responses: not a JSON object")
	}
	// obj is valid JSON from here on: the scan need not check it.
	i = skipSpace(obj, i+1)
	for i < len(obj) && obj[i] != '}' {
		kEnd := skipValue(obj, i)
		key := unquote(obj[i:kEnd])
		i = skipSpace(obj, kEnd)
		i = skipSpace(obj, i+1) // the colon
		vEnd := skipValue(obj, i)
		fn(key, obj[i:vEnd])
		i = skipSpace(obj, vEnd)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return len(b)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipValue(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[j])) {
		j++
	}
	return j
}

// unquote returns the JSON string q as a Go string.
func unquote(q []byte) string {
	if len(q) >= 2 && bytes.IndexByte(q, '\\') < 0 {
		return string(q[1 : len(q)-1])
	}
	var s string
	json.Unmarshal(q, &s)
	return s
}

// quote is s as a JSON string, without the HTML escapes of json.Marshal
// (an export is read by programs and people, not put into pages).
func quote(s string) []byte {
	return appendQuoted(nil, s)
}

// appendQuoted appends s as a JSON string to b.
func appendQuoted(b []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// timeText is t in RFC 3339 with microseconds, UTC; "" for the zero time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// number is a plain decimal number, which no spreadsheet takes as a formula.
var number = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// Neutralize escapes s against spreadsheet formula injection, following
// OWASP's guidance on CSV injection: a cell that starts with =, +, -, @, a
// tab or a carriage return gets a leading apostrophe, so that a spreadsheet
// shows it as text instead of evaluating it. So does one that starts with
// them after spaces or line feeds, which an import that trims cells (an
// option of LibreOffice's and Google Sheets') would remove. A plain number
// (-12.5) is left as it is: it evaluates to itself. Quoting the cell, where
// needed, is the CSV writer's job.
func Neutralize(s string) string {
	t := strings.TrimLeft(s, " \n\v\f\u00a0")
	if t == "" {
		return s
	}
	switch t[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if number.MatchString(t) {
			return s
		}
		return "'" + s
	}
	return s
}

// ParseTime parses a -since or -until value: RFC 3339 (2026-12-03T10:00:00Z)
// or a date (2026-12-03, midnight UTC).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("responses: time %q: want RFC 3339 (2026-12-03T10:00:00Z) or a date (2026-12-03)", s)
}
