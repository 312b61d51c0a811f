package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/waflow/waflow"
)

const eventCols = `id, dedupe_key, kind, payload, received_at, state, attempts, last_error, result,
	next_attempt_at, lease_owner, lease_until, processed_at`

func scanEvent(r rowScanner) (waflow.InboxEvent, error) {
	var e waflow.InboxEvent
	var kind, state string
	err := r.Scan(&e.ID, &e.DedupeKey, &kind, &e.Payload, timeCol{&e.ReceivedAt}, &state, &e.Attempts,
		&e.LastError, &e.Result, timeCol{&e.NextAttemptAt}, &e.LeaseOwner, timeCol{&e.LeaseUntil},
		timeCol{&e.ProcessedAt})
	e.Kind, e.State = waflow.EventKind(kind), waflow.InboxState(state)
	return e, err
}

func scanEvents(rows *sql.Rows) ([]waflow.InboxEvent, error) {
	defer rows.Close()
	out := []waflow.InboxEvent{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func validateEvents(events []waflow.InboxEvent) error {
	for i, e := range events {
		if e.DedupeKey == "" || e.Kind == "" || len(e.Payload) == 0 {
			return waflow.Invalidf("AddEvents: event %d needs a DedupeKey, a Kind and a Payload", i)
		}
	}
	return nil
}

// addRequest is one AddEvents call waiting for the committer.
type addRequest struct {
	events []waflow.InboxEvent
	done   chan addResult // buffered: the committer never blocks on it
}

type addResult struct {
	added int
	err   error
}

// AddEvents implements waflow.InboxStore with group commit: see the package
// documentation. It returns once the transaction holding the events has
// committed, or failed.
func (db *DB) AddEvents(ctx context.Context, events []waflow.InboxEvent) (int, error) {
	if db.isClosed() {
		return 0, waflow.ErrClosed
	}
	if err := validateEvents(events); err != nil {
		return 0, err
	}
	if len(events) == 0 {
		return 0, nil
	}
	now := db.now()
	evs := make([]waflow.InboxEvent, len(events))
	for i, e := range events {
		if e.ReceivedAt.IsZero() {
			e.ReceivedAt = now
		}
		evs[i] = e
	}
	req := &addRequest{events: evs, done: make(chan addResult, 1)}
	select {
	case db.adds <- req:
	case <-db.closing:
		return 0, waflow.ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	// The request is queued: wait for its transaction whatever ctx says, so
	// that a nil error always means committed and an error never hides a
	// commit that is still to come... except on Close, which drains first.
	select {
	case r := <-req.done:
		return r.added, r.err
	case <-db.committerDone:
		select {
		case r := <-req.done:
			return r.added, r.err
		default:
			return 0, waflow.ErrClosed
		}
	}
}

// committer is the one goroutine that writes AddEvents requests: it takes
// every request waiting at the moment, writes them in one transaction and
// answers each after the commit. While it waits for an fsync, new requests
// queue up and form the next batch.
func (db *DB) committer() {
	defer close(db.committerDone)
	batch := make([]*addRequest, 0, db.maxBatch)
	for {
		var first *addRequest
		select {
		case first = <-db.adds:
		case <-db.closing:
			// Requests queued before Close are still written.
			for {
				select {
				case r := <-db.adds:
					db.commitBatch([]*addRequest{r})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	collect:
		for len(batch) < db.maxBatch {
			select {
			case r := <-db.adds:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		db.commitBatch(batch)
	}
}

// commitBatch writes every request of batch in one transaction and answers
// them. If that transaction fails, each request is retried in a transaction
// of its own, so that one request's failure does not fail the others and a
// request's events are stored all or none.
func (db *DB) commitBatch(batch []*addRequest) {
	added, err := db.commitRequests(batch)
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			n, err := db.commitRequests([]*addRequest{r})
			r.done <- addResult{added: n[0], err: wrap(err, "AddEvents")}
		}
		return
	}
	for i, r := range batch {
		if err != nil {
			r.done <- addResult{err: wrap(err, "AddEvents")}
		} else {
			r.done <- addResult{added: added[i]}
		}
	}
}

// commitRequests inserts the events of requests in one transaction and
// returns how many each added.
func (db *DB) commitRequests(requests []*addRequest) ([]int, error) {
	ctx := context.Background()
	added := make([]int, len(requests))
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return added, err
	}
	defer tx.Rollback()
	stmt := tx.StmtContext(ctx, db.insertEvent)
	for i, r := range requests {
		if added[i], err = insertEvents(ctx, stmt, r.events); err != nil {
			return make([]int, len(requests)), err
		}
	}
	if err := tx.Commit(); err != nil {
		return make([]int, len(requests)), err
	}
	return added, nil
}

func insertEvents(ctx context.Context, stmt *sql.Stmt, events []waflow.InboxEvent) (int, error) {
	added := 0
	for _, e := range events {
		res, err := stmt.ExecContext(ctx, e.DedupeKey, string(e.Kind), e.Payload, micros(e.ReceivedAt), micros(e.ReceivedAt))
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		added += int(n)
	}
	return added, nil
}

func checkClaim(owner string, max int, lease time.Duration) error {
	if owner == "" || max <= 0 || lease <= 0 {
		return waflow.Invalidf("a claim needs an owner, a positive max and a positive lease")
	}
	return nil
}

// ClaimEvents implements waflow.InboxStore. The single UPDATE is atomic, and
// the one-writer rule orders it with every other write.
func (db *DB) ClaimEvents(ctx context.Context, owner string, max int, lease time.Duration) ([]waflow.InboxEvent, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	if err := checkClaim(owner, max, lease); err != nil {
		return nil, err
	}
	now := db.now()
	rows, err := db.w.QueryContext(ctx, `UPDATE inbox_events
		SET state = 'processing', lease_owner = ?1, lease_until = ?2, attempts = attempts + 1
		WHERE id IN (
			SELECT id FROM inbox_events WHERE state = 'pending' AND next_attempt_at <= ?3
			UNION ALL
			SELECT id FROM inbox_events WHERE state = 'processing' AND lease_until <= ?3
			ORDER BY id LIMIT ?4)
		RETURNING `+eventCols, owner, micros(now.Add(lease)), micros(now), max)
	if err != nil {
		return nil, wrap(err, "ClaimEvents")
	}
	evs, err := scanEvents(rows)
	if err != nil {
		return nil, wrap(err, "ClaimEvents")
	}
	sortEvents(evs)
	return evs, nil
}

func sortEvents(evs []waflow.InboxEvent) {
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].ID < evs[j-1].ID; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}

// FinishEvent implements waflow.InboxStore.
func (db *DB) FinishEvent(ctx context.Context, id int64, owner string, state waflow.InboxState, result string) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	if !state.Final() {
		return waflow.Invalidf("FinishEvent: %q is not a final state", state)
	}
	return db.settle(ctx, "FinishEvent", "inbox_events", "processing", id, owner,
		"state = ?, result = ?, processed_at = ?, lease_owner = '', lease_until = NULL",
		string(state), result, micros(db.now()))
}

// RetryEvent implements waflow.InboxStore.
func (db *DB) RetryEvent(ctx context.Context, id int64, owner string, lastError string, next time.Time) error {
	if db.isClosed() {
		return waflow.ErrClosed
	}
	return db.settle(ctx, "RetryEvent", "inbox_events", "processing", id, owner,
		"state = 'pending', last_error = ?, next_attempt_at = ?, lease_owner = '', lease_until = NULL",
		lastError, micros(next))
}

// settle updates row id of table if it is in state leased under owner, and
// says why not otherwise: ErrNotFound or ErrLeaseLost.
func (db *DB) settle(ctx context.Context, op, table, leased string, id int64, owner, set string, args ...any) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap(err, op)
	}
	defer tx.Rollback()
	args = append(args, id, leased, owner)
	res, err := tx.ExecContext(ctx, "UPDATE "+table+" SET "+set+" WHERE id = ? AND state = ? AND lease_owner = ?", args...)
	if err != nil {
		return wrap(err, op)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM "+table+" WHERE id = ?", id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return wrap(waflow.ErrNotFound, op)
		}
		if err != nil {
			return wrap(err, op)
		}
		return wrap(waflow.ErrLeaseLost, op)
	}
	return wrap(tx.Commit(), op)
}

// InboxEvent implements waflow.InboxStore.
func (db *DB) InboxEvent(ctx context.Context, id int64) (waflow.InboxEvent, error) {
	return db.eventWhere(ctx, "InboxEvent", "id = ?", id)
}

// InboxEventByKey implements waflow.InboxStore.
func (db *DB) InboxEventByKey(ctx context.Context, dedupeKey string) (waflow.InboxEvent, error) {
	return db.eventWhere(ctx, "InboxEventByKey", "dedupe_key = ?", dedupeKey)
}

func (db *DB) eventWhere(ctx context.Context, op, where string, arg any) (waflow.InboxEvent, error) {
	if db.isClosed() {
		return waflow.InboxEvent{}, waflow.ErrClosed
	}
	e, err := scanEvent(db.r.QueryRowContext(ctx, "SELECT "+eventCols+" FROM inbox_events WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return waflow.InboxEvent{}, wrap(waflow.ErrNotFound, op)
	}
	return e, wrap(err, op)
}

// InboxEvents implements waflow.InboxStore.
func (db *DB) InboxEvents(ctx context.Context, f waflow.InboxFilter) ([]waflow.InboxEvent, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	where := []string{"id > ?"}
	args := []any{f.AfterID}
	if f.State != nil {
		where = append(where, "state = ?")
		args = append(args, string(*f.State))
	}
	if f.Kind != nil {
		where = append(where, "kind = ?")
		args = append(args, string(*f.Kind))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, "SELECT "+eventCols+" FROM inbox_events WHERE "+
		strings.Join(where, " AND ")+" ORDER BY id LIMIT ?", args...)
	if err != nil {
		return nil, wrap(err, "InboxEvents")
	}
	evs, err := scanEvents(rows)
	return evs, wrap(err, "InboxEvents")
}

// InboxStats implements waflow.InboxStore. Each count reads one partial
// index.
func (db *DB) InboxStats(ctx context.Context) (waflow.InboxStats, error) {
	if db.isClosed() {
		return waflow.InboxStats{}, waflow.ErrClosed
	}
	var s waflow.InboxStats
	err := db.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM inbox_events WHERE state = 'pending'),
		(SELECT count(*) FROM inbox_events WHERE state = 'processing'),
		(SELECT count(*) FROM inbox_events WHERE state = 'dead')`).Scan(&s.Pending, &s.Processing, &s.Dead)
	return s, wrap(err, "InboxStats")
}
