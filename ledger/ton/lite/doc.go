// Package lite is the live TON chain: a ton.Chain over TON liteservers
// (mainnet or testnet) through tonutils-go's liteclient, with proof
// checking.
//
// NOT EXERCISED IN CI. The machines tonmesh is built and tested on cannot
// reach the TON network, so no test here talks to a real liteserver. The
// tests cover everything that can be checked offline: loading and
// validating the global config (file and URL, every error), Dial failing
// fast and clearly against liteservers on closed 127.0.0.1 ports, the
// network / global ID checks, and every chain method: sending, get-methods,
// the masterchain head and transaction paging go through tonutils-go's real
// API client against a fake liteserver at the TL level, with real mainnet
// transactions (testdata/mainnet_txs.boc); account states and config
// param 19, whose answers need real proofs, are handed to the chain
// already decoded. What is left unproven is the live part: the ADNL
// handshake with a real liteserver, the proof chain from the config's init
// block, and the proofs of real answers. Try it by hand before trusting it with money:
//
//	c, err := lite.Dial(ctx, lite.Config{GlobalConfig: "testnet-global.config.json", Network: "testnet"})
//
// How it works. Dial loads the global config (a path or an http(s) URL),
// checks it belongs to the configured network, connects the liteserver
// pool, sets the config's init block as the trusted block and uses
// ProofCheckPolicySecure: every masterchain head is proven from that block,
// and account states and get-method results are proven against the head.
// Dial then reads config param 19 (the global ID) and refuses a network
// other than the one configured. Account states come from GetAccount on
// the proven head. Transactions are read with liteServer.getTransactions,
// starting from the proven account state's last transaction and following
// the hash chain of previous-transaction hashes, so every transaction
// returned is anchored to a proven state.
//
// Conversion to the project's types is the shared ton.FromTLB, so lite
// and emu agree on every field. One correction is made on top of it: the
// transaction's BOC and the hashes of its internal and external-out
// messages are taken from the cells the liteserver sent, not from
// tonutils-go's re-serialisation, which for some real transactions lays
// out a message differently (body or state init inline instead of in a
// reference) and so gives other bytes and another hash.
//
// Owns: nothing on disk; the liteserver connection pool and its
// reconnect loops, which Close stops.
//
// Invariants:
//   - every account state, get-method result and transaction returned was
//     proven against a masterchain block proven from the global config's
//     init block (ProofCheckPolicySecure);
//   - GlobalID is the one Dial read from the chain and checked against the
//     configured network;
//   - a Transaction's Hash is the hash of its BOC;
//   - no call panics on what a liteserver sends: decoding is guarded and
//     turned into an error.
package lite
