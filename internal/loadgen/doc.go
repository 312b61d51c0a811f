// Package loadgen plays many WhatsApp clients against a data endpoint, or
// Meta's webhook deliveries against a webhook receiver, and measures the
// throughput and latency the server gives them. It is the engine of
// "waflow bench".
//
// What is sent comes from a [Source]: [NewPing] (health checks), [NewInit]
// (the INIT request of a flow, with valid flow tokens) and [NewWebhook]
// (signed flow-completion webhooks). The sources that need RSA encrypt a
// pool of requests before the clock starts and cycle through it, so the
// generator's own CPU stays small next to the server's (WhatsApp's clients
// do that work on their phones). [NewStep] plays a simulator
// scenario once and repeats one of its requests.
//
// [Run] drives the requests in one of two ways:
//   - closed loop (Config.Concurrency clients, each sending its next request
//     when the previous answer arrived): the peak throughput;
//   - open loop (Config.Rate requests per second, whatever the answers do):
//     the latency at a given load. Latency is measured from the moment a
//     request was due, not from when it could be sent, so a server that
//     falls behind is not flattered by the generator waiting for it.
//
// Every answer is checked (status, decryption, content); the [Result] has
// requests per second, latency percentiles of the successful answers, and
// the failures by kind.
package loadgen
