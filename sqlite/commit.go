package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/waflow/waflow"
)

// Group commit for every write.
//
// With synchronous=FULL every commit waits for an fsync, and the one writer
// connection serialises commits: one transaction per write would cap the
// store at one write per fsync. So every write, of any method, joins a
// shared transaction run by the committer goroutine. The committer grants
// the transaction to one write at a time (in the writer's own goroutine,
// never concurrently), brackets each write in a SAVEPOINT so that a write
// that fails or gives up undoes only itself, and commits once the writes
// waiting at that moment are done. A write's Commit returns only after that
// commit, so a nil error still means durable. While one fsync runs, the
// next writes queue up and form the next batch.

// writeTurn is one write's wait for, and use of, the shared transaction.
type writeTurn struct {
	granted chan grant      // the committer hands over the transaction
	done    chan bool       // the write is finished: true to keep its changes
	result  chan error      // the shared commit's outcome
	ctx     context.Context // the caller's, checked before the turn starts
}

type grant struct {
	tx  *sql.Tx
	err error // the shared transaction could not begin
}

// opTx is a write's view of the shared transaction: the *sql.Tx methods a
// write uses, and Commit and Rollback with the usual meaning for this write.
type opTx struct {
	*sql.Tx
	turn     *writeTurn
	finished bool
}

// begin waits for this write's turn in the shared transaction and opens its
// savepoint. Every begin must be followed by Commit or Rollback (defer
// Rollback; it is a no-op after Commit). A write must not call begin again
// before it finished: it would wait for itself.
func (db *DB) begin(ctx context.Context) (*opTx, error) {
	if db.isClosed() {
		return nil, waflow.ErrClosed
	}
	t := &writeTurn{granted: make(chan grant, 1), done: make(chan bool, 1), result: make(chan error, 1), ctx: ctx}
	select {
	case db.writes <- t:
	case <-db.closing:
		return nil, waflow.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	g, err := db.awaitTurn(t)
	if err != nil {
		return nil, err
	}
	if _, err := g.tx.Exec("SAVEPOINT write"); err != nil {
		t.done <- false
		<-t.result
		return nil, err
	}
	return &opTx{Tx: g.tx, turn: t}, nil
}

// awaitTurn waits for the committer to grant queued turn t. The committer
// answers every turn it takes from the queue; a turn queued after it
// stopped (Close ran between the queueing and now) is never taken.
func (db *DB) awaitTurn(t *writeTurn) (grant, error) {
	var g grant
	select {
	case g = <-t.granted:
	case <-db.committerDone:
		select {
		case g = <-t.granted:
		default:
			return grant{}, waflow.ErrClosed
		}
	}
	return g, g.err
}

// A granted write runs to its end whatever its caller's context does: a
// statement interrupted by a cancelled context makes SQLite roll back the
// whole transaction, which holds other writes too. The caller's context
// bounds getting into the queue, and a write whose context ended while it
// waited is refused when its turn comes, without running.

// ExecContext runs a statement in this write, ignoring ctx's cancellation.
func (o *opTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return o.Tx.ExecContext(context.WithoutCancel(ctx), query, args...)
}

// QueryContext runs a query in this write, ignoring ctx's cancellation.
func (o *opTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return o.Tx.QueryContext(context.WithoutCancel(ctx), query, args...)
}

// QueryRowContext runs a one-row query in this write, ignoring ctx's
// cancellation.
func (o *opTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return o.Tx.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}

// PrepareContext prepares a statement for this write, ignoring ctx's
// cancellation.
func (o *opTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return o.Tx.PrepareContext(context.WithoutCancel(ctx), query)
}

// Commit keeps this write's changes and waits until the shared transaction
// holding them has committed.
func (o *opTx) Commit() error {
	if o.finished {
		return sql.ErrTxDone
	}
	o.finished = true
	if _, err := o.Tx.Exec("RELEASE write"); err != nil {
		o.turn.done <- false // the committer undoes the write
		<-o.turn.result
		return err
	}
	o.turn.done <- true
	return <-o.turn.result
}

// Rollback undoes this write's changes, and only them; after Commit it does
// nothing. It too waits for the shared transaction to end: a write that
// gave up because of what it read (a seat taken by an earlier write of the
// batch) must not return before that is committed, or the caller's next
// read, on another connection, would not see it.
//
// Its error is the shared transaction's when that failed: whatever the
// write concluded from what it read (a duplicate, a conflict) may rest on
// another write of the batch that was not stored after all.
func (o *opTx) Rollback() error {
	if o.finished {
		return nil
	}
	o.finished = true
	o.turn.done <- false // the committer undoes the write
	return <-o.turn.result
}

// end finishes a write when its function returns: nothing after Commit;
// otherwise Rollback, and if the shared transaction failed, *errp becomes
// that failure, since a success or a verdict drawn from what the write read
// (already recorded, taken by another) may rest on a write of the batch
// that was not stored after all. Use it as defer tx.end(&err) with a named
// error result.
func (o *opTx) end(errp *error) {
	if o.finished {
		return
	}
	if err := o.Rollback(); err != nil {
		*errp = err
	}
}

// committer runs the shared transactions until Close; writes queued before
// Close are still run.
func (db *DB) committer() {
	defer close(db.committerDone)
	batch := make([]*writeTurn, 0, db.maxBatch)
	for {
		var first *writeTurn
		select {
		case first = <-db.writes:
		case <-db.closing:
			for {
				select {
				case t := <-db.writes:
					db.runBatch([]*writeTurn{t})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	collect:
		for len(batch) < db.maxBatch {
			select {
			case t := <-db.writes:
				batch = append(batch, t)
			default:
				break collect
			}
		}
		db.runBatch(batch)
	}
}

// runBatch runs the writes of batch, one after the other, in one
// transaction, and commits it.
func (db *DB) runBatch(batch []*writeTurn) {
	tx, err := db.w.BeginTx(context.Background(), nil)
	if err == nil {
		// The outer savepoint tells whether the transaction is still there
		// (see transactionLost).
		if _, err = tx.Exec("SAVEPOINT batch"); err != nil {
			tx.Rollback()
		}
	}
	if err != nil {
		for _, t := range batch {
			t.granted <- grant{err: err}
		}
		return
	}
	var ran, kept []*writeTurn
	var lost error
	for i := 0; i < len(batch); i++ {
		t := batch[i]
		if lost != nil {
			t.granted <- grant{err: lost}
			continue
		}
		if err := t.ctx.Err(); err != nil {
			t.granted <- grant{err: err} // its caller gave up while queued
			continue
		}
		t.granted <- grant{tx: tx}
		ran = append(ran, t)
		if <-t.done {
			kept = append(kept, t)
		} else {
			// Undo the write here, not in its goroutine: whatever made it
			// give up (an error, a failed RELEASE), its savepoint must not
			// stay open and be committed with the batch.
			if _, err := tx.Exec("ROLLBACK TO write"); err == nil {
				_, _ = tx.Exec("RELEASE write")
			}
			lost = transactionLost(tx)
		}
		// More writes may have queued meanwhile: take them into this
		// transaction rather than make them wait for the next fsync.
		if i == len(batch)-1 && len(batch) < db.maxBatch {
			select {
			case more := <-db.writes:
				batch = append(batch, more)
			default:
			}
		}
	}
	if lost != nil {
		tx.Rollback()
		for _, t := range ran {
			t.result <- lost
		}
		return
	}
	err = tx.Commit()
	if errors.Is(err, sql.ErrTxDone) && len(kept) == 0 {
		err = nil
	}
	for _, t := range ran {
		t.result <- err
	}
}

// transactionLost reports, after a write gave up, whether SQLite rolled the
// whole shared transaction back: it does so on some errors (a full disk,
// an I/O error, an interrupted statement) whatever savepoints say. Then the
// changes of the writes before are gone, and a write after would run
// outside any transaction and be committed on its own: the batch must end
// here, every write in it told that it failed. The probe releases and
// re-creates the outer savepoint, which exists only while the
// transaction does.
func transactionLost(tx *sql.Tx) error {
	_, err := tx.Exec("RELEASE batch")
	if err == nil {
		_, err = tx.Exec("SAVEPOINT batch")
	}
	if err != nil {
		return fmt.Errorf("sqlite: a failed write ended the shared transaction, so the writes batched with it were not stored: %w", err)
	}
	return nil
}

// exec runs one statement as a write of its own.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return res, tx.Commit()
}
