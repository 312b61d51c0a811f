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
//
// See docs/architecture.md in the repository for the whole map.
package waflow
