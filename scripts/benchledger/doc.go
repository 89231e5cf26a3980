// Command benchledger is the ledger benchmark run by scripts/bench-ledger.
//
// In one process and one run it measures:
//
//   - vouchers accepted per second by channel.Payee (signature check, then
//     the durable write, then the acknowledgement): one channel at a time,
//     and 32 channels at once (their writes share fsyncs);
//   - beside them, the two raw costs an acceptance is made of: Ed25519
//     verifications per second (one goroutine, and one per CPU) of the
//     57-byte voucher message, and durable Pebble writes per second through
//     ledger.Store of voucher-sized records, in batches of 1 and of 1,000
//     (one fsync per batch), and in batches of 1 from 32 writers at once;
//   - the time from wallet.Send to the transfer confirmed on an emulated
//     chain (emu on a temporary store, a v5r1 wallet funded by the faucet,
//     then N sends to another address; Send returns once the chain shows
//     the wallet's transaction): p50, p99, mean and max, and apart from them
//     the first send, which deploys the wallet;
//   - the toncenter v2 API beside tonmesh's own chain protocol on one chain:
//     a host (emu) and a second node that reaches it over libp2p (remote)
//     and serves ledger/ton/toncenter on loopback HTTP; the same v5r1
//     transfers (signed by tonutils-go's wallet) by jsonRPC sendBoc and by
//     remote.Client.SendExternal, p50/p99 until executed, and runGetMethod
//     "seqno" calls/s through each, one caller at a time.
//
// Throughput figures each run for a fixed time (--duration); every store
// lives in its own temporary directory under --dir (the disk matters: a
// tmpfs makes fsync free) and is removed at exit.
//
// Invariants: every store it opens is closed and every goroutine it starts
// has returned before it exits; a figure that could not be measured is
// reported, and the command exits non-zero. Progress goes to stderr,
// results to stdout (a table, or JSON with --json).
package main
