package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/waflow/waflow"
	"github.com/waflow/waflow/postgres"
	"github.com/waflow/waflow/storetest"
)

// skew is how far the clocks of the replicas "ahead" and "behind" are off.
const skew = 10 * time.Minute

// replicas are three replicas of one schema whose own clocks are right,
// skew ahead and skew behind.
type replicas struct{ right, ahead, behind *postgres.DB }

func openReplicas(t *testing.T) replicas {
	t.Helper()
	url := storetest.PostgresURL(t)
	schema := newSchema(t, url)
	open := func(off time.Duration) *postgres.DB {
		db, err := postgres.Open(context.Background(), url, postgres.Options{Schema: schema,
			Now: func() time.Time { return time.Now().Add(off) }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	return replicas{open(0), open(skew), open(-skew)}
}

// queue is what the inbox and the outbox have in common here.
type queue struct {
	add   func(db *postgres.DB, key string) error
	claim func(db *postgres.DB, owner string) ([]int64, error)
	retry func(db *postgres.DB, id int64, owner string, next time.Time) error
}

var queues = map[string]queue{
	"inbox": {
		add: func(db *postgres.DB, key string) error {
			_, err := db.AddEvents(context.Background(), []waflow.InboxEvent{{DedupeKey: key, Kind: waflow.EventMessage, Payload: []byte("{}")}})
			return err
		},
		claim: func(db *postgres.DB, owner string) ([]int64, error) {
			evs, err := db.ClaimEvents(context.Background(), owner, 10, time.Minute)
			var ids []int64
			for _, e := range evs {
				ids = append(ids, e.ID)
			}
			return ids, err
		},
		retry: func(db *postgres.DB, id int64, owner string, next time.Time) error {
			return db.RetryEvent(context.Background(), id, owner, "later", next)
		},
	},
	"outbox": {
		add: func(db *postgres.DB, key string) error {
			_, _, err := db.Enqueue(context.Background(), waflow.OutboxMessage{IdempotencyKey: key, To: "15551234567", Payload: []byte(`{"type":"text"}`)})
			return err
		},
		claim: func(db *postgres.DB, owner string) ([]int64, error) {
			ms, err := db.ClaimOutbox(context.Background(), owner, 10, time.Minute)
			var ids []int64
			for _, m := range ms {
				ids = append(ids, m.ID)
			}
			return ids, err
		},
		retry: func(db *postgres.DB, id int64, owner string, next time.Time) error {
			return db.RetryOutbox(context.Background(), id, owner, "later", next)
		},
	},
}

// Leases and due times are read on the database's clock, whatever the
// clock of the replica asking (a lease is one minute, each skew ten).
func TestSkewedReplicaClocks(t *testing.T) {
	for name, q := range queues {
		claim := func(t *testing.T, db *postgres.DB, owner string) []int64 {
			t.Helper()
			ids, err := q.claim(db, owner)
			if err != nil {
				t.Fatal(err)
			}
			return ids
		}
		add := func(t *testing.T, db *postgres.DB, key string) {
			t.Helper()
			if err := q.add(db, key); err != nil {
				t.Fatal(err)
			}
		}
		t.Run(name+"/LeaseHoldsForAReplicaAhead", func(t *testing.T) {
			r := openReplicas(t)
			add(t, r.right, "k")
			if got := claim(t, r.right, "right"); len(got) != 1 {
				t.Fatalf("claimed %d, want 1", len(got))
			}
			if got := claim(t, r.ahead, "ahead"); len(got) != 0 {
				t.Fatalf("two replicas hold one lease: the one whose clock runs ahead took %v", got)
			}
		})
		t.Run(name+"/LeaseOfAReplicaBehindHolds", func(t *testing.T) {
			r := openReplicas(t)
			add(t, r.behind, "k")
			if got := claim(t, r.behind, "behind"); len(got) != 1 {
				t.Fatalf("claimed %d, want 1", len(got))
			}
			if got := claim(t, r.right, "right"); len(got) != 0 {
				t.Fatalf("two replicas hold one lease: the lease taken by the one whose clock is behind was over at once, %v", got)
			}
		})
		t.Run(name+"/RetryOfAReplicaBehindWaits", func(t *testing.T) {
			r := openReplicas(t)
			add(t, r.behind, "k")
			got := claim(t, r.behind, "behind")
			if len(got) != 1 {
				t.Fatalf("claimed %d, want 1", len(got))
			}
			// A minute from now on the clock of the replica behind.
			if err := q.retry(r.behind, got[0], "behind", time.Now().Add(-skew+time.Minute)); err != nil {
				t.Fatal(err)
			}
			if got := claim(t, r.right, "right"); len(got) != 0 {
				t.Fatalf("a retry due in a minute on the clock of the replica behind was due at once: %v", got)
			}
		})
		t.Run(name+"/DueAtOnceFromAReplicaAhead", func(t *testing.T) {
			r := openReplicas(t)
			add(t, r.ahead, "k")
			if got := claim(t, r.right, "right"); len(got) != 1 {
				t.Fatalf("what a replica whose clock runs ahead stored is not due at once: claimed %d, want 1", len(got))
			}
		})
	}
}
