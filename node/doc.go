// Package node composes one tonmesh node: identity, store, network, services
// and the local HTTP API, and owns their lifecycle.
//
// node is the only package that knows every other package; it wires them by
// hand in New, in dependency order (identity → store → network → services →
// API), so that the order of construction and every error is visible in one
// place.
//
// Invariants:
//   - New acquires nothing that outlives a failed New: on error every part
//     already opened is closed again.
//   - Stop closes in reverse order of construction: the API stops taking
//     requests first, the store is closed last, after every writer is gone,
//     so no acknowledged write is lost on SIGINT/SIGTERM.
//   - Every API route except /healthz requires the bearer token in the home's
//     api.token; the API listens on loopback unless the config allows remote.
//   - The node's "node" key space in the store holds only its address book
//     (peers seen, for faster reconnection after a restart).
package node
