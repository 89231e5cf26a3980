// Command benchnet is the network benchmark run by scripts/bench-network.
//
// It measures, for an N-node (default 20) network on 127.0.0.1:
//
//   - a process testnet (testnet.Run with real `tonmesh daemon` processes):
//     time until the testnet is ready and until every node is connected to at
//     least k peers, each node's start-to-ready time (process start until its
//     /healthz reports a DHT peer) and idle RSS per daemon;
//   - an in-process comparison: N p2p.Networks (tonmesh code) beside N bare
//     hosts built only from go-libp2p, go-libp2p-kad-dht and
//     go-libp2p-pubsub, both bootstrapped the same way (star to node 0, then a
//     routing-table refresh), measured interleaved in the same process: DHT
//     get latency and gossip delivery-to-all latency of 1 KiB messages, and
//     the ratio tonmesh/bare of each figure.
//
// Invariants: every daemon, host and goroutine it starts is stopped before it
// exits, on success, failure or Ctrl-C; every wait is bounded by a timeout;
// it exits non-zero, with the reason on stderr, when a figure could not be
// measured. Progress goes to stderr, results to stdout (a table, or JSON with
// --json).
package main
