// Package webhook receives WhatsApp webhooks and acts on them exactly once.
//
// WhatsApp delivers flow completions (nfm_reply messages) and flow health
// alerts by webhook, at least once, and retries for up to 7 days after any
// answer but 200 (protocol.md 4.1). So the [Receiver] stores every event in
// the durable inbox ([waflow.InboxStore]) before it answers 200, one inbox
// row per message, status or flows event, deduplicated on the message's
// wamid or the flows event's key; and the [Worker] processes the inbox
// afterwards, with retries and backoff, surviving restarts.
//
// A completion is acted on once because recording it is a compare-and-set
// on its flow token ([waflow.CompletionStore.RecordCompletion]): of any
// number of duplicates and replays, exactly one is recorded and handed to the
// flow's [CompletionHandler]. A handler rejects a completion that can never
// succeed with [waflow.ErrRejected] ([waflow.Rejectf]): it is settled as
// rejected at once, its record undone and its token left unused.
//
// Flow tokens are never stored in clear: the receiver stores a completion
// with its flow_token in [flowtoken.Redact]'s form, which the worker checks
// with [flowtoken.Issuer.ParseRedacted].
//
// # Wiring
//
//	// store is a waflow.Store (package sqlite or postgres), issuer the
//	// flowtoken.Issuer that signed the tokens, verifier the app secrets.
//	worker, err := webhook.NewWorker(webhook.WorkerConfig{Store: store, Tokens: issuer})
//	worker.Handle("book_table", func(ctx context.Context, c webhook.Completed) error { ... })
//	go worker.Run(ctx)
//	recv, err := webhook.NewReceiver(webhook.ReceiverConfig{
//		Verifier: verifier, VerifyToken: verifyToken, Inbox: store, OnStored: worker.Notify,
//	})
//	mux.Handle("/webhook", recv)
//
// # Status codes
//
// GET: 200 with hub.challenge, 403 for a wrong mode or verify token. POST:
// 200 once stored (duplicates included), 401 for a missing or wrong
// signature, 413 over 3 MiB, 400 for a signed body that is not a webhook
// notification, 500 when the inbox cannot store (WhatsApp retries). Nothing
// is stored unless the answer is 200.
package webhook
