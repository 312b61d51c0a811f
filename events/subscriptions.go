package events

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/httperr"
	"github.com/waflow/waflow/stdwebhooks"
)

// File is the layout of a subscriptions file (WAFLOW_EVENTS_FILE):
//
//	{"subscriptions": [{"id": "crm", "url": "https://crm.example.com/waflow",
//	  "secret": "whsec_...", "types": ["flow.completed", "booking.created"]}]}
type File struct {
	Subscriptions []waflow.Subscription `json:"subscriptions"`
}

// ParseFile parses and checks a subscriptions file: known fields only,
// each subscription valid (an id, an http(s) URL, a whsec_ secret), known
// event types (or "*"), no id twice. Errors name the subscription, never
// its secret.
func ParseFile(data []byte) ([]waflow.Subscription, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("events file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("events file: data after the JSON object")
	}
	seen := map[string]bool{}
	for i, s := range f.Subscriptions {
		if err := checkSubscription(s); err != nil {
			return nil, fmt.Errorf("events file: subscription %d: %w", i+1, err)
		}
		if seen[s.ID] {
			return nil, fmt.Errorf("events file: subscription id %q appears twice", s.ID)
		}
		seen[s.ID] = true
	}
	return f.Subscriptions, nil
}

func checkSubscription(s waflow.Subscription) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if _, err := stdwebhooks.ParseSecret(s.Secret); err != nil {
		return waflow.Invalidf("subscription %s: the secret is not a valid whsec_ secret", s.ID)
	}
	for _, t := range s.Types {
		if t != "*" && !slices.Contains(Types, t) {
			return waflow.Invalidf("subscription %s: unknown event type %q (known: %v)", s.ID, t, Types)
		}
	}
	return nil
}

// SubscriptionStore is what the subscriptions handler needs of the store.
type SubscriptionStore interface {
	PutSubscription(ctx context.Context, s waflow.Subscription) (waflow.Subscription, error)
	Subscriptions(ctx context.Context) ([]waflow.Subscription, error)
	Subscription(ctx context.Context, id string) (waflow.Subscription, error)
	DeleteSubscription(ctx context.Context, id string) error
}

// Apply stores the subscriptions of a file, replacing those with the same
// ids; subscriptions made through the handler are kept.
func Apply(ctx context.Context, store SubscriptionStore, subs []waflow.Subscription) error {
	for _, s := range subs {
		if _, err := store.PutSubscription(ctx, s); err != nil {
			return fmt.Errorf("events: storing subscription %s: %w", s.ID, err)
		}
	}
	return nil
}

// view is a subscription as the handler shows it: the secret only once,
// in the answer to its creation.
type view struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Types     []string  `json:"types"`
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func viewOf(s waflow.Subscription) view {
	types := s.Types
	if types == nil {
		types = []string{}
	}
	return view{ID: s.ID, URL: s.URL, Types: types, CreatedAt: s.CreatedAt}
}

// NewHandler returns the JSON API of subscriptions, to mount under a
// prefix with http.StripPrefix (such as /v1/subscriptions). It has no
// authentication of its own: the API that mounts it authenticates.
//
//	GET    /      the subscriptions, without their secrets
//	POST   /      create {"url", "types", "id"?, "secret"?}: 201 with the secret (made when absent)
//	GET    /{id}  one subscription
//	DELETE /{id}  204; its pending deliveries die at their next attempt
func NewHandler(store SubscriptionStore, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	h := &handler{store: store, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.list)
	mux.HandleFunc("POST /{$}", h.create)
	mux.HandleFunc("GET /{id}", h.get)
	mux.HandleFunc("DELETE /{id}", h.delete)
	return mux
}

type handler struct {
	store SubscriptionStore
	log   *slog.Logger
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, waflow.ErrNotFound):
		err = httperr.New(http.StatusNotFound, "no such subscription", err)
	case errors.Is(err, waflow.ErrInvalid):
		err = httperr.New(http.StatusBadRequest, err.Error(), err)
	}
	httperr.Write(w, r, h.log, httperr.CodedJSON, err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	subs, err := h.store.Subscriptions(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]view, 0, len(subs))
	for _, s := range subs {
		out = append(out, viewOf(s))
	}
	writeJSON(w, http.StatusOK, map[string]any{"subscriptions": out})
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	s, err := h.store.Subscription(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewOf(s))
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	if err := h.store.DeleteSubscription(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		h.fail(w, r, httperr.New(http.StatusRequestEntityTooLarge, "body larger than 64 KiB", err))
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var s waflow.Subscription
	if err := dec.Decode(&s); err != nil {
		h.fail(w, r, httperr.New(http.StatusBadRequest, "body is not a subscription: "+err.Error(), err))
		return
	}
	if !s.CreatedAt.IsZero() {
		h.fail(w, r, httperr.New(http.StatusBadRequest, "created_at is set by the server", nil))
		return
	}
	if s.ID == "" {
		b := make([]byte, 8)
		rand.Read(b)
		s.ID = "sub_" + hex.EncodeToString(b)
	} else if _, err := h.store.Subscription(r.Context(), s.ID); err == nil {
		h.fail(w, r, httperr.New(http.StatusConflict, fmt.Sprintf("subscription %q exists; delete it first", s.ID), nil))
		return
	}
	if s.Secret == "" {
		s.Secret = stdwebhooks.NewSecret()
	}
	if err := checkSubscription(s); err != nil {
		h.fail(w, r, err)
		return
	}
	stored, err := h.store.PutSubscription(r.Context(), s)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := viewOf(stored)
	v.Secret = stored.Secret
	h.log.Info("events: subscription created", "id", stored.ID, "types", stored.Types)
	writeJSON(w, http.StatusCreated, v)
}
