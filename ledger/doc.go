// Package ledger owns the node's one Pebble database and, from the ledger
// issue on, the settlements journal kept in it.
//
// Every other package gets its own key space from Store.Space and never sees
// keys outside it: a space named "vault" reads and writes only keys that start
// with "vault/". Space names are registered once per Store; a second
// registration of the same name is an error, so two packages cannot
// accidentally share a prefix.
//
// Invariants:
//   - A write or batch that returned nil is durable: it was committed with
//     fsync (pebble.Sync) and survives kill -9. Pebble groups concurrent synced
//     commits into one fsync, so callers get group commit for free by writing
//     from several goroutines or by using a Batch.
//   - Only one process opens a home's database at a time; a second Open fails
//     with ErrLocked instead of waiting.
//   - After Close returns, every acknowledged write is on disk and the
//     directory lock is released.
package ledger
