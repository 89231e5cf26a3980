// Package journal is the node's settlements journal: an append-only,
// hash-chained, idempotent log of every settlement (a job paid, an auction
// settled, a sale, a deposit, a withdrawal, a channel voucher or
// redemption…) kept in the ledger space "journal" (SpaceName).
//
// Each Record has a sequence number (1, 2, 3…), the hash of the record
// before it (32 zero bytes for seq 1) and its own hash: SHA-256 over the
// canonical encoding of (seq, prev, entry), see Record.ComputeHash. An
// entry carries an idempotency key (for example the transaction hash that
// settled it): appending the same key again returns the first record and
// writes nothing.
//
// Appends are group-committed: a single committer goroutine takes every
// append waiting in its queue, assigns seqs, and writes them all in one
// fsync'd batch; each caller gets its record only after that batch is
// durable.
//
// The package also provides the Merkle tree (MerkleRoot, Proof,
// VerifyProof) that ledger/anchor commits to TON, and the binary forms of
// a record and a proof path (MarshalRecord/UnmarshalRecord,
// MarshalProof/UnmarshalProof) for proofs handed to other parties.
//
// Owns: the ledger space "journal": 'r' + seq (8 bytes big-endian) →
// encoded record; 'k' + idempotency key → seq; 'h' → head (seq and hash).
// A record, its key index and the head are written in the same batch.
//
// Invariants:
//   - an Append that returned a record is durable (survives kill -9); one
//     that returned an error may still have been written if the error was
//     the caller's context (retry with the same key: it is idempotent);
//   - seqs have no gaps; record n's Prev is record n-1's Hash;
//   - only the committer goroutine writes; readers see whole batches only;
//   - an idempotency key maps to exactly one record, forever.
package journal
