package endpoint_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/waflow/waflow/endpoint"
	"github.com/waflow/waflow/flowtoken"
	"github.com/waflow/waflow/sqlite"
	"github.com/waflow/waflow/sqlite/sqlitetest"
)

func TestStoreTokens(t *testing.T) {
	ctx := context.Background()
	clock := now
	db, err := sqlite.Open(ctx, sqlitetest.Path(t), sqlite.Options{Now: func() time.Time { return clock }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	iss, _ := flowtoken.NewIssuer(tokenSecret)
	iss.Now = func() time.Time { return clock }
	iss.TTL = time.Hour
	st := endpoint.StoreTokens{Issuer: iss, Store: db}

	tok, rec, err := st.Issue(ctx, "booking", "4915112345678")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Token(ctx, rec.ID); err != nil {
		t.Fatalf("issued token not recorded: %v", err)
	}
	if c, err := st.ValidateToken(ctx, "booking", tok); err != nil || c.ID != rec.ID {
		t.Fatalf("fresh token: %+v, %v", c, err)
	}
	// Signed with our secret but never recorded: refused.
	unrecorded, _, _ := iss.Issue("booking", "1")
	var te *endpoint.TokenError
	if _, err := st.ValidateToken(ctx, "booking", unrecorded); !errors.As(err, &te) {
		t.Fatalf("unrecorded token: %v, want a TokenError", err)
	}
	// Used: refused with its own message.
	if err := db.MarkTokenUsed(ctx, rec.ID, clock); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ValidateToken(ctx, "booking", tok); !errors.As(err, &te) || te.Msg == "" || !strings.Contains(te.Msg, "already submitted") {
		t.Fatalf("used token: %v", err)
	}
	// Expired and other-flow tokens fail on the signature check first.
	tok2, _, _ := st.Issue(ctx, "booking", "1")
	if _, err := st.ValidateToken(ctx, "expense", tok2); !errors.Is(err, flowtoken.ErrWrongFlow) {
		t.Fatalf("other flow: %v", err)
	}
	clock = clock.Add(2 * time.Hour)
	if _, err := st.ValidateToken(ctx, "booking", tok2); !errors.Is(err, flowtoken.ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
	// The store down is not a token error (the handler answers 500).
	db.Close()
	clock = now
	if _, err := st.ValidateToken(ctx, "booking", tok2); err == nil || errors.As(err, &te) {
		t.Fatalf("closed store: %v, want a plain error", err)
	}
}
