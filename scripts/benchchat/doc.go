// Command benchchat measures tonmesh chat on loopback: four in-process nodes
// (real libp2p hosts on 127.0.0.1, real Pebble stores with fsync), and on the
// same nodes in the same run
//
//   - raw stream round trips (one request frame, one response frame) between
//     the sender and the recipient, the floor under any delivery;
//   - the disk under the stores alone: two files appended a message's
//     worth and fsynced at once, as a durable ack makes both ends' logs
//     durable on this one machine (on a tmpfs --dir this is nearly free,
//     which shows what the disk costs, not what the nodes guarantee);
//   - direct messages: Send until the recipient's durable ack, one at a time
//     (latency p50/p99) and from several senders at once (messages/s);
//   - mailbox messages: the recipient stops answering the message protocol,
//     so Send leaves each message with the mailbox peers (latency p50/p99 of
//     that deposit, messages/s), sealed with proof of work from one node and
//     plain, as before sealing, from another; the proof of work alone (one
//     stamp, as paid per holder); then the recipient fetches them all
//     (fetch, open, store durably, signed delete at the holders:
//     messages/s);
//   - groups, on their own nodes after those four stop: a group of --group
//     members (50), one node and identity each, and from one member, per
//     round, one group message until every other member acknowledged its
//     copy durably, beside the same text as one 1:1 message to each other
//     member (as many at once as the group fan-out sends) until all
//     acknowledged; p50/p99 over --group-messages rounds.
//
// Run it with scripts/bench-chat; --json prints the figures as JSON.
package main
