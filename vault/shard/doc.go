// Package shard is the vault's storage primitive: it seals an element and
// splits it into content-addressed shards (owner side), moves shards to and
// from the peers that hold them over /tonmesh/vault/shard/1.0.0 (any node),
// and keeps shards for others within a quota (holder side).
//
// Encoding. Encode seals the plaintext with AES-256-GCM under a fresh random
// 32-byte key and a random nonce (ciphertext = nonce ‖ sealed ‖ tag), then
// splits the ciphertext with Reed-Solomon into N shards of which any K
// restore it (Decode; Rebuild recomputes lost shards without the key, for
// repair). Each shard is named by its CID (cid.go): CIDv1, raw codec,
// BLAKE3-256 of its bytes; sha2-256 CIDs, which tonmesh made before, stay
// valid everywhere. Each side hashes a shard once: the owner in Encode
// (PutShard takes the CID), the holder while the bytes arrive, a reader
// while they arrive (GetInto, into a Buffer shared by the element's shards,
// which then decodes in place). EncodeInto and NewBufferIn take memory to
// reuse, so that an owner needs no fresh allocation of an element's size
// per put or read: EncodeInto seals the plaintext in place, and Release
// clears a read's plaintext before its memory is handed back. An owner
// Striped elements (stripe.go): the plaintext is sealed in segments of
// Layout.Segment bytes, segment j under the element's key with the nonce
// j (8 bytes, big-endian) ‖ 0 0 0 ‖ last, each split by Reed-Solomon into
// K data and N-K parity chunks of Layout.ChunkLen(j) bytes; shard i is
// chunk i of every stripe, at Layout.Offset(j). Striper.SealStripe seals
// stripe after stripe in place (in a stripe's own memory: its chunks side
// by side), as a SegmentWriter writes their plaintext, so that stripe j can be sent (ShardWriter, stream.go:
// the CID follows the data) while j+1 is sealed; Striper.Open opens one
// stripe from any K of its chunks, so that a reader (ShardReader, one per
// holder) can open stripe after stripe as they arrive. Whole striped shards are
// shards like any other: Rebuild, Prove and the holder need no layout. An owner
// checks that a holder still has a BLAKE3 shard without fetching it and
// without precomputing anything by Prove (proof.go: Bao slices of nonce-chosen 1 KiB chunks, verified
// against the CID); a sha2-256 shard by Challenge, whose answers
// (ChallengeAnswer, BLAKE2b-256 keyed with the nonce over tag ‖ shard) its
// owner precomputed.
//
// Protocol (wire.go). Put, Get, Challenge, Prove and Delete, one stream
// each; a put announces size and CID first, so that a holder refuses what
// is oversize (ErrTooLarge) or over its quota (ErrQuota) before any data
// moves (a shard of up to 256 KiB is sent with the header, one round trip). Refusals come back to the caller as the package's sentinel errors.
// Receipts (receipt.go) are signed by the holder's peer key and checked by
// Put.
//
// Holder. It owns the store space "vault-shards" and the directory
// FilesDir in the store's directory (store.go): shards up to 1 MiB are kept
// in the store, larger ones in files, written as they arrive (the kernel is
// asked to start writing each MiB out at once, so that the fsync before
// the receipt waits only for the tail). It serves the
// protocol between Start and Stop. Puts are committed in rounds by one
// committer (commit.go): the puts waiting together share one fsync of the
// shard directory and one synced batch.
//
// Invariants:
//   - A receipt is signed only after the shard is durably stored: its file
//     fsynced and renamed into place and the directory fsynced, then its
//     meta (and a small shard's bytes) in an fsync'd Pebble batch. A
//     receipted shard survives kill -9 (crash_test.go).
//   - A holder stores only cid → (bytes, delete public keys, stored time).
//     It never learns the owner, the document, the key or which shards
//     belong together; delete keys are made per shard by the owner.
//   - Nothing is stored for a refused put, a put whose bytes do not match
//     its CID, or a transfer cut off midway (peer gone, stream closed or
//     reset, deadline passed, holder stopping).
//   - Stored bytes are re-hashed whenever they are served (Get, Challenge,
//     Prove, repeated Put); a shard that fails its CID check is deleted and
//     reported as ErrNotFound, so that its owner rebuilds it. A Get of a
//     shard kept in a file hashes it as it sends it (one pass, no wait
//     before the first byte): one that fails the check is deleted before
//     the stream closes, and the reader's own check reports ErrCorrupt. Files that no
//     meta names (a put cut off by a crash) are removed when a holder opens.
//   - Put is idempotent: a shard already held under the same delete key is
//     acknowledged at once; under another key, the data must be sent again
//     (proof of possession) and the key is added (at most 4 per shard).
//   - A shard is deleted only on a request signed by one of its delete keys
//     over (tag ‖ CID ‖ this holder's peer ID ‖ time), the time within 10
//     minutes of the holder's clock.
//   - A striped segment is authenticated on its own: a reader releases no
//     plaintext of a stripe before its tag checks, and the counter nonce
//     and last flag stop stripes being reordered or cut off.
//   - Stats counts exactly what the store holds; bytes in transfer are
//     reserved against the quota until stored or abandoned.
package shard
