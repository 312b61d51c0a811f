package endpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/waflow/waflow/flowjson"
	"github.com/waflow/waflow/media"
)

// StoredFile is a PhotoPicker or DocumentPicker file the endpoint received:
// downloaded, checked, stored under its SHA-256. Handlers read the bytes
// from the media store under Key.
type StoredFile struct {
	MediaID  string `json:"media_id"`
	Key      string `json:"sha256"`    // lowercase hex SHA-256: the key in the media store
	MIMEType string `json:"mime_type"` // sniffed from the content, never the name
	Size     int    `json:"size"`
	FileName string `json:"file_name"` // the device's name; untrusted, for display
}

// MediaConfig configures [ReceiveMedia].
type MediaConfig struct {
	// Spec is the flow's Flow JSON: which payload keys of a screen's
	// data_exchange carry a PhotoPicker or DocumentPicker, and the
	// component's rules. Required.
	Spec *flowjson.Flow
	// Fetcher downloads and checks the files. Required.
	Fetcher *media.Fetcher
	// Store keeps the checked files. Required.
	Store media.Store
	// Data gives, by screen id, the builder of a screen's dynamic data,
	// as in ValueCheck: a refused file shows its screen again with it.
	Data map[string]ScreenData
	// Timeout is the one deadline of all the files of a request, fetched
	// concurrently. When zero, or longer, it is 80% of what is left of
	// the request's own deadline (Config.Timeout), so that the answer
	// still goes out in time.
	Timeout time.Duration
	// Logger receives one line per refused request: flow, screen, media
	// ids and reasons, never URLs, keys or hashes. slog.Default() when nil.
	Logger *slog.Logger
	// Observe, when set, is called once per file with its result:
	// "stored", or the refusal's media.FileError.Code ("hmac",
	// "too_large", ...), e.g. for metrics.
	Observe func(flow, result string)
}

// ReceiveMedia returns middleware that receives the files of a
// data_exchange request (protocol.md §2.9): for every payload key bound to
// the screen's PhotoPicker or DocumentPicker (${form.x}), it fetches all
// the files concurrently under one deadline with the component's rules
// (max-file-size-kb, allowed-mime-types, §6.7), stores them, and hands
// the handler their descriptions in Request.Media and in Data, in place
// of WhatsApp's values with their keys.
//
// When any file is refused, none is stored and the handler is not called
// (a store that fails part way through leaves the files it took, each
// under its own hash, and the request is refused all the same):
// the screen is shown again with the component's per-file error-message,
// {"<media_id>": "<message>"}, bound where the component's error-message
// points (${data.k}), and a snackbar. A request whose media values are not
// media values gets the same answer for every file (use CheckValues
// before it for the other fields).
//
// Rules given as ${data.x} are not known here: Meta's limits apply
// (25600 KiB, the 24 document types), which the client enforces too.
func ReceiveMedia(cfg MediaConfig) (Middleware, error) {
	if cfg.Spec == nil || cfg.Fetcher == nil || cfg.Store == nil {
		return nil, errors.New("endpoint: ReceiveMedia needs a Spec, a Fetcher and a Store")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	fields := map[string]map[string]mediaField{}
	for _, s := range cfg.Spec.Screens {
		if f := mediaFields(cfg.Spec, s); len(f) > 0 {
			fields[s.ID] = f
		}
	}
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, r *Request) (*Response, error) {
			mf := fields[r.Screen]
			if r.Action != ActionDataExchange || len(mf) == 0 || len(r.Data) == 0 {
				return next(ctx, r)
			}
			var data map[string]json.RawMessage
			if err := json.Unmarshal(r.Data, &data); err != nil {
				return next(ctx, r) // not an object: CheckValues' concern
			}
			got, refused := receive(ctx, cfg, data, mf)
			if cfg.Observe != nil {
				for _, files := range got {
					for range files {
						cfg.Observe(r.Flow, "stored")
					}
				}
				for _, x := range refused {
					cfg.Observe(r.Flow, x.fe.Code())
				}
			}
			if len(refused) > 0 {
				ids, reasons := make([]string, 0, len(refused)), make([]string, 0, len(refused))
				for _, x := range refused {
					ids = append(ids, x.fe.MediaID)
					reasons = append(reasons, x.fe.Reason.Error())
				}
				log.Warn("media files refused", "flow", r.Flow, "screen", r.Screen, "media_ids", ids, "reasons", reasons)
				return refusedAnswer(ctx, cfg, r, mf, refused)
			}
			if len(got) == 0 {
				return next(ctx, r)
			}
			for key, files := range got {
				b, err := json.Marshal(files)
				if err != nil {
					return nil, err
				}
				data[key] = b
			}
			b, err := json.Marshal(data)
			if err != nil {
				return nil, err
			}
			r2 := *r
			r2.Data, r2.Media = b, got
			return next(ctx, &r2)
		}
	}, nil
}

// CompletionMedia returns the rules of the PhotoPicker and DocumentPicker
// values a completion of spec carries in response_json, by key: the
// payload keys of the complete actions bound to a media component
// (protocol.md §2.9: Cloud API media ids with a sha256, fetched with
// media.FetchCompleted). Nil when there are none.
func CompletionMedia(spec *flowjson.Flow) map[string]media.Rules {
	var out map[string]media.Rules
	for _, s := range spec.Screens {
		for key, f := range mediaFieldsOf(spec, s, flowjson.ActionComplete) {
			if out == nil {
				out = map[string]media.Rules{}
			}
			out[key] = f.rules
		}
	}
	return out
}

// HasMedia reports whether a screen of spec sends PhotoPicker or
// DocumentPicker files to the data endpoint: whether [ReceiveMedia] has
// anything to do for the flow.
func HasMedia(spec *flowjson.Flow) bool {
	for _, s := range spec.Screens {
		if len(mediaFields(spec, s)) > 0 {
			return true
		}
	}
	return false
}

// mediaField is a payload key bound to a media component.
type mediaField struct {
	c     *flowjson.Component
	rules media.Rules
}

// mediaFields finds, among the data_exchange payloads of screen s, the keys
// bound to a PhotoPicker or DocumentPicker (${form.x} or
// ${screen.S.form.x}).
func mediaFields(spec *flowjson.Flow, s *flowjson.Screen) map[string]mediaField {
	return mediaFieldsOf(spec, s, flowjson.ActionDataExchange)
}

// mediaFieldsOf is mediaFields for the actions named action.
func mediaFieldsOf(spec *flowjson.Flow, s *flowjson.Screen, action string) map[string]mediaField {
	out := map[string]mediaField{}
	for _, a := range s.Actions() {
		if a.Action.Name != action || a.Action.Payload == nil || a.Action.Payload.Kind != flowjson.Object {
			continue
		}
		for _, m := range a.Action.Payload.Members {
			str, ok := m.Value.AsString()
			if !ok {
				continue
			}
			ref, ok := flowjson.ParseRef(str)
			if !ok {
				continue
			}
			on := s
			switch ref.Kind {
			case flowjson.RefForm:
			case flowjson.RefScreenForm:
				if on = spec.Screen(ref.Screen); on == nil {
					continue
				}
			default:
				continue
			}
			c := on.Inputs()[ref.Name()]
			if c == nil || (c.Type != "PhotoPicker" && c.Type != "DocumentPicker") {
				continue
			}
			out[m.Key] = mediaField{c: c, rules: rulesOf(c)}
		}
	}
	return out
}

// rulesOf reads a media component's max-file-size-kb and
// allowed-mime-types; a dynamic value leaves Meta's default.
func rulesOf(c *flowjson.Component) media.Rules {
	kb := 0
	if n, ok := c.MaxFileSizeKB.AsInt(); ok && n >= 1 && n <= media.DefaultMaxFileSizeKB {
		kb = n
	}
	if c.Type == "PhotoPicker" {
		return media.PhotoPicker(kb)
	}
	var types []string
	if v := c.AllowedMimeTypes; v != nil && v.Kind == flowjson.Array {
		for _, it := range v.Items {
			if t, ok := it.AsString(); ok {
				types = append(types, t)
			}
		}
	}
	return media.DocumentPicker(kb, types)
}

// receive fetches every file of every media key concurrently under one
// deadline, and stores them only when all passed. It returns the stored
// files by key, or the refusals.
func receive(ctx context.Context, cfg MediaConfig, data map[string]json.RawMessage, mf map[string]mediaField) (map[string][]StoredFile, []refusal) {
	deadline := cfg.Timeout
	if d, ok := ctx.Deadline(); ok {
		if left := time.Until(d) * 8 / 10; deadline <= 0 || left < deadline {
			deadline = left
		}
	}
	if deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, deadline)
		defer cancel()
	}
	type job struct {
		key string
		i   int
		v   media.Value
	}
	var jobs []job
	var refused []refusal
	for _, key := range sortedMediaKeys(mf) {
		raw, ok := data[key]
		if !ok {
			continue
		}
		vs, err := media.ParseValues(raw)
		if err != nil {
			// Unreadable values: one refusal under the key, as no media
			// id can be trusted.
			refused = append(refused, refusal{key, &media.FileError{MediaID: key, Reason: media.ErrMetadata, Err: err}})
			continue
		}
		for i, v := range vs {
			jobs = append(jobs, job{key, i, v})
		}
	}
	if len(refused) > 0 {
		return nil, refused
	}
	files := make([]*media.File, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for n, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			files[n], errs[n] = cfg.Fetcher.Fetch(ctx, j.v, mf[j.key].rules)
		}()
	}
	wg.Wait()
	for n, err := range errs {
		if err != nil {
			var fe *media.FileError
			if !errors.As(err, &fe) {
				fe = &media.FileError{MediaID: jobs[n].v.MediaID, Reason: media.ErrMetadata, Err: err}
			}
			refused = append(refused, refusal{jobs[n].key, fe})
		}
	}
	if len(refused) > 0 {
		return nil, refused // nothing stored: every file passed or none is kept
	}
	out := map[string][]StoredFile{}
	for n, j := range jobs {
		f := files[n]
		key, err := media.Save(ctx, cfg.Store, f)
		if err != nil {
			var fe *media.FileError
			if !errors.As(err, &fe) {
				fe = &media.FileError{MediaID: f.MediaID, Reason: media.ErrStore, Err: err}
			}
			return nil, []refusal{{j.key, fe}}
		}
		out[j.key] = append(out[j.key], StoredFile{MediaID: f.MediaID, Key: key, MIMEType: f.MIMEType, Size: len(f.Data), FileName: f.FileName})
	}
	return out, nil
}

// refusal is a refused file and the payload key that carried it.
type refusal struct {
	key string
	fe  *media.FileError
}

func sortedMediaKeys(mf map[string]mediaField) []string {
	keys := make([]string, 0, len(mf))
	for k := range mf {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// refusedAnswer shows the screen again with each refused file's message
// under its media id in the component's error-message (protocol.md §2.9).
func refusedAnswer(ctx context.Context, cfg MediaConfig, r *Request, mf map[string]mediaField, refused []refusal) (*Response, error) {
	var data map[string]any
	if build := cfg.Data[r.Screen]; build != nil {
		values, err := flowjson.DecodeValues(r.Data)
		if err != nil {
			return nil, Fail("media files refused, and the request's values do not decode", err)
		}
		if data, err = build(ctx, r, values); err != nil {
			return nil, err
		}
	}
	d := maps.Clone(data)
	if d == nil {
		d = map[string]any{}
	}
	for _, x := range refused {
		k := ErrorField(mf[x.key].c)
		if k == "" {
			continue // no ${data.k} to bind: the snackbar says it
		}
		m, _ := d[k].(map[string]string)
		if m == nil {
			m = map[string]string{}
			d[k] = m
		}
		m[x.fe.MediaID] = x.fe.UserMessage()
	}
	msg := refused[0].fe.UserMessage()
	if len(refused) > 1 {
		msg = fmt.Sprintf("%d files could not be accepted.", len(refused))
	}
	return ErrorOn(r.Screen, d, msg), nil
}
