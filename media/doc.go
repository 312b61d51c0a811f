// Package media receives the files users send with a flow's PhotoPicker
// and DocumentPicker components (protocol.md §2.9, §6.7).
//
// # Files sent to the data endpoint
//
// A data_exchange request carries, under the component's payload key, an
// array of media values ([ParseValues]): a media_id, a cdn_url on
// WhatsApp's CDN, the name the device gave the file and its
// encryption_metadata. The file on the CDN is the ciphertext (AES-256-CBC,
// PKCS#7) followed by the first 10 bytes of an HMAC-SHA256 over
// iv‖ciphertext. A [Fetcher] downloads it and checks, in order:
//
//   - the cdn_url is https on an allowed host ([DefaultCDNHosts], WhatsApp's
//     CDN, unless Options.AllowedHosts says otherwise), and so is every
//     redirect;
//   - the file is no larger than the component's max-file-size-kb allows
//     ([MaxCDNSize]: the padded ciphertext and the HMAC); more is not read;
//   - the download ends before the deadline (Options.Timeout);
//   - SHA-256 of the file equals encrypted_hash;
//   - the 10-byte HMAC matches, compared in constant time;
//   - the ciphertext decrypts with strict PKCS#7 padding;
//   - SHA-256 of the result equals plaintext_hash;
//   - the type sniffed from the content ([Sniff]), never from the file
//     name, is one of the component's allowed-mime-types ([Rules]).
//
// The data endpoint must answer within 10 s (protocol.md §3.2): a caller
// with several files fetches them concurrently under one deadline.
//
// [Decrypt] is the cryptographic part alone. A refused file is a
// [*FileError] whose Reason (ErrHMAC, ErrTooLarge, ...) says what was wrong
// and whose MediaID is the key of the component's per-file error-message;
// [FileError.UserMessage] is a text fit to show. Errors and log lines
// never contain keys, hashes from the request, file contents or the
// cdn_url's query.
//
// # Files of a completion
//
// In a completion's response_json the same components carry Cloud API
// media ids with a sha256 ([ParseCompletedValues]). [FetchCompleted]
// downloads them through the Graph API (graph.Client.DownloadMedia checks
// the SHA-256) and applies the same size and type rules; [ReceiveCompleted]
// does it for every file of a completion, storing them only when all pass.
//
// The data endpoint's middleware endpoint.ReceiveMedia puts the Fetcher in
// front of a flow's handlers: it reads the rules from the Flow JSON and
// answers a refused file with the component's per-file error-message.
//
// # Storage
//
// A [Store] keeps checked files under their SHA-256 ([Key]); [Save] puts a
// [File] in one. Nothing is stored before every check has passed. The
// [DirStore] keeps them in a folder of the local file system: right for
// one machine, not for replicas, which do not share it. `waflow serve`
// keeps them in the database by default (waflow.MediaStore, both drivers),
// which every replica reads.
//
// # Signed URLs
//
// A [URLSigner] makes short-lived URLs to stored files (GET
// /media/{key}?expires=&sig=, an HMAC-SHA256 over key and expiry) and
// serves them ([URLSigner.Handler]): how a forwarded backend fetches the
// files of a request (docs/forwarding.md).
package media
