// Package channel holds the compiled code of tonmesh's one-way payment
// channel contract (channel.fc, FunC) and the record that ties that code to
// its source.
//
// Owns: the files of contracts/channel: the FunC sources (*.fc), the
// compiled code as a base64 BOC (channel.code.b64) and the build record
// (channel.code.rec: code hash, source hash, compiler). All three are
// written by scripts/build-contracts and committed; the Go build never runs
// a FunC compiler. Layout describes these files to contracts/build, which
// holds the record format and the checks shared with contracts/market.
//
// Invariants:
//   - the embedded code's cell hash equals the code hash in the record, and
//     the record's source hash is the hash of the embedded sources; the
//     package's tests fail otherwise, so a source edited without a rebuild
//     (or a hand-edited BOC) is noticed;
//   - Code returns a fresh cell each call: callers may not mutate a shared
//     one.
//
// The contract's rules, storage layout, opcodes and exit codes are
// documented at the top of channel.fc; ledger/channel is the Go side that
// builds its state init, messages and vouchers.
package channel
