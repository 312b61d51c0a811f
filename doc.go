// Package waflow is the domain of the waflow WhatsApp Flows backend: the types
// every other package shares (flow tokens, webhook events, completions,
// outbox messages), the error vocabulary, and the storage contract that the
// sqlite and postgres drivers implement.
//
// The package imports only the standard library. The pieces that talk to the
// outside world live in subpackages named for what they do:
//
//   - [github.com/waflow/waflow/keys]: RSA private keys in every PEM format
//     Meta's tooling writes, key generation, public-key fingerprints.
//   - [github.com/waflow/waflow/envelope]: the data-endpoint encryption
//     (RSA-OAEP key unwrap, AES-128-GCM with a 16-byte IV, flipped-IV responses).
//   - [github.com/waflow/waflow/signature]: X-Hub-Signature-256 signing and
//     verification over raw bodies, with several secrets for rotation.
//   - [github.com/waflow/waflow/flowtoken]: signed, expiring flow tokens and the
//     Data API 4.0 flow_token_signature JWT.
//   - [github.com/waflow/waflow/endpoint]: the http.Handler that answers
//     WhatsApp's encrypted data-endpoint requests.
//   - [github.com/waflow/waflow/flowjson]: the Flow JSON model, the offline
//     validator and validation of submitted values.
//   - [github.com/waflow/waflow/webhook]: the webhook receiver, which stores
//     every event before answering 200, and the inbox worker, which acts on
//     each completion exactly once.
//   - [github.com/waflow/waflow/registry]: the flows a server runs, one
//     value per flow (Flow JSON, endpoint handlers, completion handler);
//     [github.com/waflow/waflow/catalog] registers six ready ones.
//   - [github.com/waflow/waflow/sqlite] and [github.com/waflow/waflow/postgres]:
//     the two implementations of [Store]; [github.com/waflow/waflow/storetest]
//     is the conformance suite both pass.
//
// # Storage contract
//
// [Store] is what every flow needs: the sum of [TokenStore], [InboxStore],
// [CompletionStore], [OutboxStore] and [DeploymentStore]; the catalog's own
// tables have their contract in package catalog/catalogstore. Consumers take
// the narrow interface they use. Each method documents the errors it returns, from the
// vocabulary in this package ([ErrNotFound], [ErrConflict], [ErrTokenUsed],
// [ErrTokenExpired], [ErrLeaseLost], [ErrInvalid], [ErrClosed], [ErrRejected]), tested with
// errors.Is; any other error is an infrastructure failure worth a retry.
// Two guarantees carry the design:
//
//   - Using a flow token is a compare-and-set ([TokenStore.MarkTokenUsed],
//     [CompletionStore.RecordCompletion]): of any number of concurrent
//     callers, on any number of processes, exactly one wins.
//   - Inbox events and outbox messages are claimed under leases: no two
//     workers hold one at once, and a crashed worker's claims are retaken
//     when their lease runs out.
//
// See docs/architecture.md in the repository for the whole map.
package waflow
