// Package toncenter serves a ton.Chain through the toncenter HTTP API v2,
// the de-facto TON client API: what @ton/ton's TonClient, tonutils and most
// wallets and scripts speak. Pointed at a tonmesh node, they work unchanged
// against whatever chain the node has: the emulated chain on the node that
// hosts it, the same chain proxied over libp2p (ledger/ton/remote) on every
// other testnet node, or liteservers.
//
// Routes, under the prefix the caller mounts the Handler at (tonmesh uses
// /ton/api/v2/): GET getAddressInformation, getAddressBalance,
// getAddressState, getWalletInformation, getTransactions,
// getMasterchainInfo; POST runGetMethod, sendBoc, sendBocReturnHash,
// estimateFee; POST jsonRPC ({"method","params","id"}), which reaches every
// one of them. Parameters come from the query string and, for POST, from a
// JSON object body.
//
// Shapes follow toncenter (toncenter/ton-http-api and pytonlib): every
// answer is {"ok":true,"result":…} or {"ok":false,"error":"…","code":N}
// with N also the HTTP status; jsonRPC answers add "id" and "jsonrpc".
// Amounts and logical times are decimal strings, hashes base64, cells BOCs
// in base64; get-method numbers come back as ["num","0x…"] and cells and
// slices as ["cell",{"bytes","object"}].
//
// Owns: nothing on disk; only the mapping between HTTP and ton.Chain. The
// optional interfaces of ledger/ton (HeadReader, FeeEstimator,
// GetMethodRunner, HistoryReader) give block ids, estimateFee, gas_used and
// newest-first history; a chain without them gets fallbacks (a zero block
// id, an error for estimateFee, gas_used 0, reading the whole history).
//
// Invariants:
//   - bad input (an address, a BOC, a stack entry, a parameter, an unknown
//     method or route) gets a toncenter-shaped 4xx answer, never a 500 and
//     never a crash: every decoder of outside bytes is bounded and turns
//     panics in third-party code into errors;
//   - a sendBoc answer comes after the chain applied (emu) or accepted
//     (liteservers) the message; a message the contract refuses changes
//     nothing and is answered 422;
//   - the handler reads the chain only; it never signs anything.
package toncenter
