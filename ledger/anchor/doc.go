// Package anchor commits the settlements journal to TON, so that its
// history is tamper-evident and a rolled-back database is detected.
//
// An anchor covers the journal records (FromSeq, ToSeq] that follow the
// previous confirmed anchor. Their hashes are the leaves of a Merkle tree
// (journal.MerkleRoot); the node's wallet sends an internal message whose
// body commits to the range:
//
//	op 0x616e6368 ("anch"):uint32  from_seq:uint64  to_seq:uint64
//	root:256 bits  head_hash:256 bits (hash of record to_seq)
//
// Destination: by default the node's own wallet address (WithDestination
// changes it). A self-message needs no contract of ours, its value comes
// straight back (an anchor costs only fees), and the commitment sits in the
// wallet's own transaction list, where it can be found again by anyone who
// knows the wallet: every out-message of the wallet whose body starts with
// the op is an anchor of that node. The wallet contract ignores an
// internal message with an unknown op, as TON wallets do.
//
// Each anchor is pending, then confirmed: the pending record (with the
// hash of the body and, once sent, the external message hash) is written
// before the order is sent; it is confirmed when a transaction of the
// wallet with an out-message carrying that body is found on chain (its
// logical time and hash are recorded). A pending anchor that is not on
// chain after WithStaleAfter is abandoned and its range is anchored again.
//
// Reconcile runs at start: it confirms pending anchors found on chain, then
// reads the anchors the wallet sent since the last confirmed one the store
// knows about, and fails with ErrRolledBack if any of them (or the last
// confirmed one) is ahead of the journal (head seq behind its to_seq) or
// disagrees with it (the record hash at to_seq differs). The node must
// refuse to start then: the chain remembers more than the database does.
//
// Owns: the ledger space "anchor" (SpaceName): 'a' + anchor ID (8 bytes
// big-endian) → the anchor as JSON.
//
// Invariants:
//   - at most one anchor is pending at a time, and anchors are made one at
//     a time (a mutex is held across the send);
//   - a pending record is durable before its order is signed, so a crash
//     never leaves an anchor on chain that the store does not know about;
//   - confirmed anchors cover consecutive, non-overlapping ranges;
//   - nothing is anchored before Reconcile has succeeded.
package anchor
