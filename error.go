package waflow

import (
	"errors"
	"fmt"
)

// Errors the stores return, tested with errors.Is. Every store method lists
// the ones it can return; any other error is an infrastructure failure
// (database down, context cancelled) that the caller should retry.
var (
	// ErrNotFound means the record asked for does not exist.
	ErrNotFound = errors.New("waflow: not found")
	// ErrConflict means the write contradicts what is stored, such as a
	// second record with the same key.
	ErrConflict = errors.New("waflow: conflict")
	// ErrTokenUsed means a flow token was already used: the second caller of
	// a compare-and-set on the token's state. It matches ErrConflict too.
	ErrTokenUsed = fmt.Errorf("%w: flow token already used", ErrConflict)
	// ErrTokenExpired means a flow token was used at or after its expiry.
	ErrTokenExpired = errors.New("waflow: flow token expired")
	// ErrLeaseLost means a worker tried to settle an inbox event or outbox
	// message it no longer holds: its lease expired and another worker
	// claimed it, or it was already settled.
	ErrLeaseLost = errors.New("waflow: lease lost")
	// ErrInvalid means the arguments are invalid (an empty key, an unknown
	// state); the error text says which.
	ErrInvalid = errors.New("waflow: invalid argument")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("waflow: store closed")
	// ErrRejected means the input can never be acted on, however often it
	// is retried: a completion handler returns it (see Rejectf) for a
	// completion that names another session's booking or a record that does
	// not exist. The webhook worker then settles the event as InboxRejected
	// at once, undoes the recorded completion (RejectCompletion: it is kept
	// as rejected, its token freed) and does not retry. RecordCompletion
	// returns it for a message already kept as rejected.
	ErrRejected = errors.New("waflow: rejected")
)

// Invalidf returns an error that matches ErrInvalid and says what was wrong.
func Invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Rejectf returns an error that matches ErrRejected and says why. The text is
// logged and stored as the inbox event's result: name the field, never the
// submitted value.
func Rejectf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRejected, fmt.Sprintf(format, args...))
}
