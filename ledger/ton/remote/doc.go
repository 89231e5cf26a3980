// Package remote serves a ton.Chain over libp2p and dials one: in a
// multi-process testnet one node hosts the emulated chain (ledger/ton/emu)
// and every other node reaches it through a Client, which implements
// ton.Chain, so wallets, deposit scanning and channels run unchanged.
//
// Protocol: /tonmesh/ledger/chain/1.0.0, one request frame and one
// response frame per stream (p2p.Network.HandleRequest / Request). Both
// are JSON objects with a format version ("v": 1). A request names a
// method (info, send_external, account, transactions, run_get_method,
// faucet, and for the chain's optional interfaces head, estimate,
// transactions_before) and only that method's fields; a response carries either the
// result or an error {code, msg} (codes: bad_request, rejected,
// not_active, get_method with its exit code, no_faucet, rate_limited,
// failed). Cells
// travel as BOCs (base64 in JSON), integers as decimal strings, get-method
// stack values as tagged values.
//
// Owns: the protocol above, nothing in the store.
//
// Invariants:
//   - every byte from the network goes through a strict decoder (one
//     object, no unknown fields, no fields the method does not take, no
//     trailing data, a size limit checked before decoding, bounded stack
//     values, BOCs parsed with panics turned into errors): requests of at
//     most MaxRequestSize, responses of at most MaxResponseSize;
//   - a malformed request gets an error answer, never a crash, and changes
//     nothing on the host;
//   - the host answers one page (MaxPage transactions, about 2 MiB) per
//     request; the client pages until the host says there is no more;
//   - a Client outlives its host's absences: while the host is unreachable
//     each call fails at once (at the dial, or at the call's deadline
//     when packets are dropped) with an error naming the host, and a call
//     that finds no connection dials again, past libp2p's dial backoff,
//     so the same Client works with the first call after the host is
//     back (on the addresses its peerstore or the DHT knows);
//   - the faucet is off unless the host passes WithFaucet, each request is
//     capped at the host's limit, and each requesting peer gets a token
//     bucket of requests (WithFaucetLimit; over it: rate_limited). TESTNET
//     ONLY.
package remote
