package console

import (
	"testing"
	"time"
)

// CheckPassword waits while the server-wide bound of argon2id work is
// taken, and goes on when a slot frees: sign-ins cannot add up memory.
func TestCheckPasswordWaitsForASlot(t *testing.T) {
	hash, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	for range cap(hashing) {
		hashing <- struct{}{}
	}
	done := make(chan bool)
	go func() { done <- CheckPassword(hash, "correct horse battery staple") }()
	select {
	case <-done:
		t.Fatal("CheckPassword hashed while every slot was taken")
	case <-time.After(100 * time.Millisecond):
	}
	for range cap(hashing) {
		<-hashing
	}
	if !<-done {
		t.Fatal("the right password did not match once a slot freed")
	}
}
