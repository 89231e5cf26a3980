// Package p2p is the network layer of the tonmesh daemon.
//
// It owns one libp2p host (TCP and QUIC, Noise and TLS, yamux, a resource
// manager and a connection manager), one Kad-DHT under the protocol prefix
// "/tonmesh", one GossipSub router, and the helpers every service uses to talk
// over them:
//
//   - Records: signed, namespaced DHT records stored under
//     "/tonmesh-<namespace>/<key>". A service registers its namespace and a
//     policy (RecordValidator); the registry is the DHT's validator.
//   - Topics: GossipSub topics joined through JoinTopic, each with a
//     mandatory validator (size, freshness, schema) and peer-score penalties
//     for senders of invalid messages.
//   - Streams: length-prefixed frames (WriteFrame/ReadFrame) and the
//     Handle/Request helpers for protocols named
//     "/tonmesh/<service>/<name>/<version>".
//   - Reachability (nat.go, relayclient.go, addrs.go): circuit relay v2 as a
//     service (Config.RelayService, within Config.Relay's limits) and as a
//     client (static relays kept by tonmesh, other relays by libp2p's
//     AutoRelay), DCUtR hole punching, reachability forced or left to
//     AutoNAT, and the DHT switching to client mode when private (dht_mode
//     auto).
//
// Services reach peers through Network.Host, which looks a peer without
// known addresses up in the DHT (FindPeer) before dialling, and lets
// streams use a limited (relayed) connection, so a NATed peer that hole
// punching could not reach directly is still served through its relay.
//
// Invariants:
//
//   - No record is stored, forwarded or returned before it has been decoded
//     by the strict decoder, its DHT key matched, its expiry checked, its
//     Ed25519 signature verified and its namespace policy applied. Records in
//     namespaces nobody registered are refused.
//   - No gossip message is delivered to a Subscription or forwarded before its
//     origin signature has been verified (GossipSub StrictSign) and its
//     envelope, size, freshness and the topic's own validator have accepted
//     it. A message that fails is rejected (its sender is scored down) except
//     stale ones, which are ignored without penalty.
//   - Every byte slice read from the network goes through a decoder that
//     checks lengths before allocating (records, envelopes, frames).
//   - Publishing a payload over the topic's MaxSize returns an error; nothing
//     is dropped silently.
//   - Network never registers metrics with the global Prometheus registry;
//     metrics are registered only with the registry given to WithMetrics.
//   - Every goroutine started by this package stops when Close returns.
//   - With Config.PublicOnly no loopback, private, carrier-grade-NAT or
//     link-local address is announced (identify, the DHT's records of this
//     node) nor kept in the DHT for others; a relay address counts by its
//     relay's address. Configured announce addresses that are not public
//     are refused at New.
//   - A relay vouches for (and a NATed node announces circuit addresses
//     through) only the relay addresses the announce policy allows.
//
// Gossip is best-effort, as GossipSub is: a node publishes its own messages to
// every topic peer (flood publishing) and relays others' through the mesh;
// a message can miss a peer that is not directly connected while the mesh is
// still forming. Services that need every message must re-publish or sync.
//
// Records.Put reports success once the record was validated locally and sent
// to the closest peers; like the DHT's PutValue, it cannot prove that any
// remote peer kept it. Where that matters, read it back from another node.
package p2p
