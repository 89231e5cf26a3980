// Command benchcompute measures tonmesh compute on loopback. It starts four
// in-process bare peers (real libp2p hosts on 127.0.0.1, real Pebble
// stores): the emulated chain's host, a proxy, a worker whose backend is a
// fast local OpenAI-compatible server (an httptest fixture that answers at
// once with a fixed short completion), and a client node whose
// OpenAI-compatible API is served on an httptest server. Payments are real
// (ledger services on the emulated chain; payments made within a few
// milliseconds of each other share one voucher) unless
// --payments=false. In one run, against the same fixture, it reports:
//
//   - latency p50/p99 of a small non-streaming chat completion called
//     directly on the fixture and through client → proxy → worker (the
//     difference is the network's overhead: libp2p streams, HPKE sealing,
//     the receipt and the voucher);
//   - time to first token of a streaming request, both ways;
//   - requests per second through the one proxy from --concurrency and
//     --high-concurrency concurrent requests on the client node, with the
//     synced commits and WAL fsyncs of the four peers per request and the
//     process's CPU time per request (the figure to compare changes by on
//     a machine shared with other load);
//   - the built-in llama2.c runner's tokens per second on stories260K
//     (a random-weight model of the same shape, labelled, when the
//     checkpoint is not found).
//
// Progress goes to stderr; the table (or --json) to stdout. To profile the
// proxy path alone: go test -run '^$' -bench Throughput -cpuprofile cpu.prof
// ./scripts/benchcompute (BENCH_CONCURRENCY sets the concurrent requests).
package main
