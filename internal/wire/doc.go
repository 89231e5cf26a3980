// Package wire is the strict binary reader and writer behind tonmesh's own
// wire and storage layouts (p2p records and gossip envelopes, chat
// envelopes, mailbox messages and stored state). It owns no layout itself:
// each caller lists its fields in order; wire only reads and appends them.
//
// Field kinds: a single byte, big-endian uint32 and uint64, an unsigned
// varint, a fixed-size byte string, and a byte string prefixed by its length
// as a varint.
//
// Invariants:
//
//   - Strict and canonical: every value has exactly one valid encoding. A
//     varint must be minimally encoded (no trailing zero continuation
//     groups) and fit in 64 bits; Finish refuses bytes left after the last
//     field. Bytes a Reader accepts therefore re-encode, with the Append
//     functions and encoding/binary's appenders, to the very same bytes —
//     signatures and content IDs computed over them are stable.
//   - Bounds before allocation: every length is checked against the caller's
//     maximum and against the remaining input before anything is sliced or
//     allocated, so hostile input cannot make a Reader allocate. Reads
//     return sub-slices of the input without copying; a caller that keeps
//     them past the input's lifetime copies the input first.
//   - Errors name the field: every error starts with the field name the
//     caller passed. The first error sticks; later reads return zero values,
//     so a decoder may read all its fields and check Err or Finish once.
//   - Never panics, whatever the input (see FuzzReader).
package wire
