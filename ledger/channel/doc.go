// Package channel is the Go side of tonmesh's one-way payment channel: the
// contract's state init and address, the bodies of its messages, vouchers
// (sign, verify, wire form) and the payee that accepts them.
//
// The contract (contracts/channel/channel.fc, compiled code embedded from
// contracts/channel) holds a payer's deposit for one payee. The payer pays
// off-chain by signing ever larger cumulative vouchers; anyone may redeem
// the latest one on chain (the payout always goes to the payee, so who
// submits does not matter) and the contract pays the difference to what it
// has already paid. The payer may close: for Params.Timeout the payee can
// still redeem, then anyone may finalize, which refunds the rest to the
// payer and destroys the contract.
//
// Signed voucher layout (57 bytes, all big-endian; the contract checks the
// same bytes with CHKSIGNS):
//
//	tag "tvch" (0x74766368):uint32  global_id:int32  workchain:int8
//	channel account hash:32 bytes   cumulative nanoTON:uint128 (< 2^120)
//
// Wire form: the 64-byte Ed25519 signature followed by those 57 bytes (121
// bytes); the same 968 bits, in one cell, are the ref of a redeem body.
//
// Fees: every message carries OpValue for the channel's gas. Top-up, close
// and finalize fees come out of that value (the unused part stays in the
// channel's reserve and returns to the payer at finalize); a redeem's fees
// come out of the redeem's own value, whose unused part travels with the
// payout, so redeeming never eats the payer's deposit.
//
// Owns: the ledger space "channel" (SpaceName) given to NewPayee: channel
// records ('c' + workchain byte + account hash: payer key and known
// deposit) and the latest accepted voucher of each channel ('v' + the same
// 33 bytes: its wire form).
//
// Invariants:
//   - a voucher is acknowledged (Accept returns nil) only after it is
//     durable; a refused voucher writes nothing;
//   - per channel, the stored voucher's cumulative only grows, never above
//     the deposit the payee knows, and always verifies under the payer key
//     (checked again when the payee reopens);
//   - vouchers of one channel are accepted one at a time (the lock is held
//     across the write); different channels proceed in parallel;
//   - SignedVouchers returned by Latest and Channels are shared: read them,
//     do not modify them.
package channel
