// Command benchvault measures the tonmesh vault on loopback: n+1
// in-process nodes (real libp2p hosts on 127.0.0.1, real Pebble stores with
// fsync, a vault on each; n=6 by default, so an owner and six holders), and
// on the same nodes in the same run
//
//   - put: vault Add of a passport element whose scan is 1 KiB, 1 MiB or
//     10 MiB (encrypt, split k-of-n, push every shard to its holder and
//     verify its receipt, write the manifest durably, publish it to the
//     DHT), MB/s and latency p50/p99;
//   - get: vault Element of it (fetch shards from all holders in parallel,
//     keep the first k intact, decode, decrypt), likewise;
//   - stream: vault WriteElement of it to io.Discard (a striped element
//     opened stripe by stripe as the chunks arrive);
//   - upload: the put over the local API, the element's binary encoding
//     sent to PUT /api/v1/passport/elements/{type}/content (validated,
//     sealed and sent on as it arrives);
//   - for each, the cores its operations kept busy (CPU time of the whole
//     process over their time) and the heap they allocated;
//   - raw libp2p stream throughput from the owner to one holder and to all
//     holders at once;
//   - raw AES-256-GCM seal + Reed-Solomon encode, and Reed-Solomon
//     reconstruction + open, of the largest size;
//   - the stores' disk alone: n files, each appended a shard of the
//     largest size (at most 32 MiB) and fsynced, all at once, as a put's
//     holders do on this one machine;
//
// and the ratios of the vault's figures to the raw ones. Progress goes to
// stderr; --json prints the results as JSON. Run it with scripts/bench-vault.
package main
