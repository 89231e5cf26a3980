// Package service runs a node's money: it connects to the chain (hosting the
// emulated chain, or dialling the host that does), owns the node's wallet and
// its deposit scanner, and answers the ledger routes of the local API
// (/api/v1/ledger/...). node wires it; the CLI's `tonmesh ledger` commands
// call its routes.
//
// Invariants:
//   - Exactly one node of an emulated network hosts the chain; every other
//     node reaches it over /tonmesh/ledger/chain/1.0.0 and sees the same state.
//   - Until the chain is reachable the ledger routes answer 503 with a message
//     naming the chain host; nothing is signed or sent before that.
//   - The faucet exists only on the emulated chain; elsewhere it is refused
//     with a message that says so.
package service
