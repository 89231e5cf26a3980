// Package ton is tonmesh's one boundary to the TON blockchain.
//
// It defines Chain, the small interface every money feature (wallets,
// deposit detection, payment channels, anchoring) talks to, and the
// project's own value types that cross it: AccountState, Transaction and
// Message. Two implementations sit behind Chain: ledger/ton/emu (an
// in-process chain that executes every message with tonutils-go's TVM) and,
// later, a liteserver client for mainnet/testnet. Business logic must never
// depend on which one it has.
//
// The package also owns the decoding shared by both implementations:
// FromTLB turns a tonutils-go transaction into a Transaction, and
// ParseExternal turns bytes from outside (a BOC) into a checked
// external-in message, so the two backends agree on hashes and fields.
//
// Invariants:
//   - amounts are nanoTON as *big.Int and are never nil in values this
//     package returns;
//   - the hash of an external-in message is its normalised hash (TEP-467:
//     src addr_none, import_fee 0, no state init, body in a ref), the hash
//     TON explorers show, so a sender can find its transaction again;
//   - Transactions are returned oldest first; an account's transactions are
//     ordered by logical time, which strictly increases.
package ton
