// Package vault is the owner's side of tonmesh's decentralised Telegram
// Passport: it stores the owner's passport elements (package
// vault/passport) as encrypted, erasure-coded shards on other peers, keeps
// the manifest that finds them again, reads them back, restores the whole
// vault on a fresh node from the mnemonic alone, audits the holders and
// repairs what they lost, and serves the passport routes of the local API.
// Each node also holds shards for other owners (vault/shard's Holder, which
// New creates and Start serves).
//
// Storing. Add validates the element and seals it under a fresh
// AES-256-GCM key into N Reed-Solomon shards of which any K restore it (4
// of 6 by default), named by BLAKE3 CIDs, each on a distinct peer, all in
// parallel; candidates are the peers of the DHT's routing table and the
// connected peers (the DHT's closest peers are looked up only when those
// are too few), never this node, and a peer that refuses or cannot be
// reached is replaced by the next closest (Kademlia distance). Elements
// of up to one segment (shard.DefaultSegment, 1 MiB) are marshalled
// straight into the shard buffer and sealed there in one piece
// (shard.EncodeInto); each shard goes to the closest peer to its CID, in
// one round trip for a small shard. Larger ones are striped (shard's
// Layout: each 1 MiB segment sealed on its own, with a counter nonce, and
// split per stripe) and streamed (putstream.go): each shard's holder is
// the closest peer to a placement target of its own (32 random bytes used
// as a DHT key; the CIDs are not known before the shards are made), its
// streamed put is opened (shard.OpenPut) while the element's encoding is
// written into a ring of 8 stripes' memory and sealed there stripe by
// stripe, and each stripe is sent to all holders as soon as it is sealed;
// a slot is reused once every holder has its chunk, so a put holds 8
// stripes of any element. The encoding comes from an element in memory
// (Add) or from an upload (AddFrom, validated as it streams:
// passport.ValidateFrom). A holder that fails midway is skipped, its shard
// still hashed, then rebuilt from K placed shards and put whole on the
// next closest free peer. Memory is reused by the next Add or read
// (bufpool.go). Each holder answers with a
// receipt signed by its peer key, checked against the shard, and only
// once the shard is durable. A shard is stored under a delete key derived only for it
// (HKDF of the owner secret and the CID), so holders cannot link the shards
// of one owner through their keys.
//
// Manifest. The list of elements with, per element, size, K, N, segment
// (0 for one piece), key, a random challenge seed and per shard its CID, holder, last check status and
// a few precomputed answers to its next audit challenges (manifest.go). It
// is encoded compactly, sealed with XChaCha20-Poly1305 under a key derived
// (HKDF) from the identity's wallet seed and X25519 key, with the owner's
// peer ID as associated data, stored in the store space "vault" and
// published as a signed, sequence-numbered record in the DHT namespace
// "vault" under the owner's peer ID. It is written as version 3 only
// while an element is striped, else as version 2, which a tonmesh from
// before striping reads; in the background after a change (the
// changes of 100 ms together; Stop publishes what is still pending), at
// once after every audit, and every Config.ManifestRepublish. The local copy is authoritative; the DHT copy
// serves Restore. The first change on a node with an empty manifest first
// adopts a published one, so a reinstall never hides the old vault behind a
// lower sequence number.
//
// Reading. WriteElement asks K holders for their shards in parallel (those
// that passed their last check first, data shards before parity). A
// one-piece element's shards are each fetched into their slot of one
// buffer and hashed as they arrive, and decoded and decrypted in that
// buffer once K match their CIDs. A striped element is read streamed (readstream.go):
// each stripe is opened as soon as K of its chunks are in, authenticated
// by its own tag, and its plaintext handed on at once, while the holders
// are kept at most a few stripes ahead by the streams' flow control, so a
// read holds a few MiB whatever the element's size; a stripe that does not
// open is opened from other sets of K chunks, with a spare's. WriteElement
// (and the API's routes) writes the plaintext out as it comes, so a 430 MiB
// element need never be whole in the daemon; Element collects it into
// memory of its own, handed over to the element (its files stay there). The
// other holders are asked only when needed (fetch.go, readstream.go): one
// more for each that fails, all of them when the read stalls. So a read
// moves about the element's size, not N/K times it, over the owner's link.
// The owner keeps no plaintext: every read goes to the holders.
//
// Audit and repair. Audit (every Config.AuditInterval, or on demand)
// challenges every holder with nonce_i = HMAC-SHA256(seed, CID ‖ i). A
// BLAKE3 shard's holder proves possession of the 64 chunks the nonce
// chooses (shard.Prove), checked against the CID: nothing is precomputed,
// and a holder missing 10 % of a shard passes one audit with probability
// 0.1 % (a sampled proof, not one over every byte; repeated audits and
// every read, which re-hashes the whole shard, catch smaller losses). A
// sha2-256 shard (placed by an older tonmesh) is answered with
// shard.ChallengeAnswer, compared with the answers computed from the shard
// when it was placed or last fetched; when they are used up the audit
// fetches the shard instead and computes the next ones. A holder that is unreachable counts as
// unreachable; one that lacks the shard, answers wrongly or serves bytes
// that fail the CID check counts as lost. An element with any lost shard,
// or with fewer than Config.RepairThreshold (K+1) passing, is repaired;
// so is a shard whose holder has answered no check for Config.ReplaceAfter
// (the first unanswered check in a row is kept in the manifest), while a
// shorter absence replaces nothing:
// K intact shards are fetched, the missing ones rebuilt (shard.Rebuild) and
// placed on the closest peers that hold no shard of the element yet, and
// the manifest is updated and republished.
//
// It owns: the store space "vault" (the sealed manifest, store.go), the DHT
// record namespace "vault", and through its Holder the shard protocol and
// the holder's store space.
//
// Invariants:
//   - An API call that changes the vault returns success only after the new
//     manifest is durably written; publication to the DHT may lag and is
//     retried in the background.
//   - Holders only ever receive ciphertext shards and per-shard delete keys:
//     no element type, size, key or owner metadata.
//   - The manifest is only ever stored sealed, locally and in the DHT.
//   - An audit nonce is never used twice: counters are advanced durably
//     before a challenge is sent. (The DHT copy is republished after every
//     audit; a manifest restored from it may lag the local counters by the
//     checks made since.)
//   - A shard is trusted only after its bytes match its CID; a stripe of a
//     striped element only once it opens under the element's key (AES-GCM,
//     a nonce of its index and a last-stripe flag, so stripes cannot be
//     moved, dropped or cut off unnoticed). A streamed read that fails has
//     written only such stripes, but not all of them.
//   - Add returns only after every holder's receipt (each shard durable on
//     its holder) and the manifest's fsync; a shard whose streamed put
//     failed midway is rebuilt and placed again or the whole Add fails
//     (and what was placed is deleted). A striped put whose encoding fails
//     (invalid, of another type, cut off) sends no holder its trailer, so
//     none keeps a shard of it. A striped element's plaintext is cleared
//     from memory stripe by stripe as it is sealed, and on every way out.
//
// Not done: a cache of decrypted elements (every read fetches K shards).
package vault
