// Command benchmarket measures the market's bid gossip on loopback: N
// in-process nodes (default 20; real libp2p hosts on 127.0.0.1, real Pebble
// stores) running the market service over one in-process emulated chain.
//
// Setup (not measured): the registry (node 1) deploys the collection and
// mints an asset to node 2, which starts a real auction on the chain; every
// node reads it. One wallet per bid is funded and signs its bid order (bid k
// is the minimum next bid after bid k-1). Then the chain stops taking
// external messages: the nodes' relays of accepted bids reach nothing, so
// the chain's serial execution stays out of the figures, while every
// validator still checks each bid against the auction the chain showed and
// the bids gossiped before it.
//
// Measured, in one run: bid propagation — bids are published one after the
// other from the nodes in turn, and for each the time from publishing to
// every node's validator accepting it (p50/p99 per bid, and per bid and
// node); bids validated per second per node — accepted and rejected bids
// over the time the market validator spent on them (one core; GossipSub's
// own check of the origin's signature is outside it); and raw Ed25519
// verifications per second on one goroutine, for scale.
//
// Run it with scripts/bench-market; --json prints the figures as JSON.
package main
