// Package testnet runs a local multi-node tonmesh network: N daemons as
// separate OS processes, each with its own home under one directory, all
// bootstrapped to the first. `tonmesh testnet` and the end-to-end tests use it.
//
// Invariants:
//   - DIR/testnet.json exists only while every node of this run is up and has
//     DHT peers: it is removed at start and at shutdown and written, atomically,
//     only once the network is ready. Scripts may wait for it.
//   - A node's ports are chosen once, when its home is created, and kept in
//     its config.toml, so a second run on the same DIR resumes the same network
//     (same identities, ports and stores).
//   - Every daemon started is stopped (SIGTERM, then SIGKILL after a grace
//     period) before Run returns.
package testnet
