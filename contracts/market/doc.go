// Package market holds the compiled code of tonmesh's market contracts,
// the collection (collection.fc) and the item (item.fc), both FunC, and the
// record that ties that code to its sources.
//
// Owns: the files of contracts/market: the FunC sources (*.fc: prims.fc
// and common.fc are shared by both contracts), the compiled code as base64
// BOCs (collection.code.b64, item.code.b64) and the build record
// (market.code.rec: both code hashes, the source hash, the compiler). All
// of them are written by scripts/build-contracts and committed; the Go
// build never runs a FunC compiler. Layout describes these files to
// contracts/build, which holds the record format and the checks shared
// with contracts/channel.
//
// Invariants:
//   - each embedded code cell's hash equals its code hash in the record,
//     and the record's source hash is the hash of the embedded sources; the
//     package's tests fail otherwise, so a source edited without a rebuild
//     (or a hand-edited BOC) is noticed;
//   - CollectionCode and ItemCode return fresh cells each call: callers may
//     not mutate a shared one.
//
// The contracts' rules, storage layouts, opcodes and exit codes are
// documented at the top of collection.fc, item.fc and common.fc;
// market/onchain is the Go side that builds their state inits and
// messages and reads their state.
package market
