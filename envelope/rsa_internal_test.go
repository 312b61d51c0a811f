package envelope

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// gateKey is an oaepKey whose decryptions block until the test lets them
// go, and which records who got in and how many were in at once.
type gateKey struct {
	gate    chan struct{}
	mu      sync.Mutex
	entered []byte // first byte of each ciphertext, in the order they got in
	in, max atomic.Int32
}

func (g *gateKey) size() int { return 4 }

func (g *gateKey) decrypt(ct []byte) ([]byte, error) {
	n := g.in.Add(1)
	for m := g.max.Load(); n > m && !g.max.CompareAndSwap(m, n); m = g.max.Load() {
	}
	g.mu.Lock()
	g.entered = append(g.entered, ct[0])
	g.mu.Unlock()
	<-g.gate
	g.in.Add(-1)
	return bytes.Repeat([]byte{ct[0]}, KeySize), nil
}

// TestMaxConcurrentIsFIFO checks the bound and the order: requests queued
// behind busy slots get a slot in the order they arrived.
func TestMaxConcurrentIsFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &gateKey{gate: make(chan struct{})}
		p := (&PrivateKeys{keys: []oaepKey{g}}).WithMaxConcurrent(2)
		var wg sync.WaitGroup
		unwrap := func(id byte) {
			wg.Go(func() {
				key, err := p.UnwrapKey([]byte{id, 0, 0, 0})
				if err != nil || key[0] != id {
					t.Errorf("UnwrapKey(%d) = %x, %v", id, key, err)
				}
			})
			synctest.Wait() // id is now decrypting or queued
		}
		for id := range byte(10) {
			unwrap(id)
		}
		if got := g.in.Load(); got != 2 {
			t.Errorf("%d decryptions in progress, want the bound, 2", got)
		}
		for range 10 {
			g.gate <- struct{}{}
			synctest.Wait()
		}
		wg.Wait()
		if got := g.max.Load(); got != 2 {
			t.Errorf("at most %d decryptions ran at once, want 2", got)
		}
		if want := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !bytes.Equal(g.entered, want) {
			t.Errorf("slots went to %v, want arrival order %v", g.entered, want)
		}
	})
}

// TestMaxConcurrentUnbounded checks that n <= 0 lifts the bound.
func TestMaxConcurrentUnbounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &gateKey{gate: make(chan struct{})}
		p := (&PrivateKeys{keys: []oaepKey{g}}).WithMaxConcurrent(0)
		var wg sync.WaitGroup
		for id := range byte(5) {
			wg.Go(func() { p.UnwrapKey([]byte{id, 0, 0, 0}) })
		}
		synctest.Wait()
		if got := g.in.Load(); got != 5 {
			t.Errorf("%d decryptions in progress, want all 5", got)
		}
		close(g.gate)
		wg.Wait()
	})
}
