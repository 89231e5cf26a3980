// Package seal encrypts an inference request end to end, from the client
// that sends it to the worker that runs it, so the proxies in between see
// routing metadata and sizes only.
//
// Suite. Requests use HPKE (RFC 9180, Go's crypto/hpke) in base mode with
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and ChaCha20-Poly1305. ChaCha20-
// Poly1305 is chosen over AES-256-GCM because it is constant-time and fast
// on every CPU a client may run on (phones and ARM boards without AES
// instructions included); at token rates the throughput difference does not
// matter. The suite is fixed by the envelope version byte: there is no
// negotiation, so there is no downgrade.
//
// Request. The client builds a Meta (model, worker peer ID, request ID,
// worker key expiry, streaming flag) that the proxy needs to route, and
// SealRequest encrypts the OpenAI JSON body to the worker's HPKE key with
// "tonmesh/compute/seal/v1" ‖ Meta.Marshal() as the HPKE info and
// Meta.Marshal() as the associated data. Changing any metadata field on the
// way makes OpenRequest fail; the metadata itself travels in clear.
//
// Response. Both ends export a 32-byte secret from the HPKE context
// (label "tonmesh response"). The worker picks a random 32-byte nonce and
// sends it in its first record; key and base nonce of the response AEAD
// (ChaCha20-Poly1305) come from HKDF-SHA256(secret, salt = worker nonce).
// Every record (a data chunk, the final record with an optional trailer, or
// an error record) is sealed on its own with the base nonce XOR its
// sequence number and its header as associated data, so records cannot be
// reordered, dropped, replayed into another response or changed, and a
// response that stops before its final (or error) record is detected as
// truncated: ResponseOpener.Finish returns ErrTruncated.
//
// This package owns no state, store space or protocol: the caller frames
// envelopes and records on its streams.
//
// Invariants:
//   - An envelope is opened only with the key it was sealed to, only before
//     the key's expiry (Meta.KeyExpiry), and only with the exact metadata it
//     was sealed with.
//   - A ResponseOpener accepts records only in the order they were sealed,
//     nothing after the final or error record, and nothing at all after a
//     record failed to open (its state is then unreliable).
//   - A ResponseSealer seals nothing after Final or Error.
//   - Decoders (UnmarshalEnvelope, UnmarshalRecord) are strict (no trailing
//     bytes, canonical encodings) and bounded (MaxEnvelopeSize,
//     MaxRecordSize) before they allocate.
//
// Caller duties: the worker checks that Meta.Worker is its own peer ID and
// Meta.Model one it serves, and refuses a RequestID it has already seen
// while the key is valid (a proxy could replay an envelope to make the
// worker run it twice; only the client can read the answer either way).
package seal
