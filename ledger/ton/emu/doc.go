// Package emu is an in-process TON chain: the local testnet's chain and the
// chain tests run against. It implements ton.Chain.
//
// Every external message, and every internal message the resulting
// transactions send, is executed by tonutils-go's pure-Go TVM transaction
// executor (tvm.EmulateTransaction): real contract code, real fees from a
// blockchain config built in code with mainnet's prices (see config.go),
// real bounces. Nothing is faked: a wallet refuses a bad signature or a
// replayed seqno because its own code does.
//
// Model. One accepted external message is one step (a "block"): its
// transaction and all the internal messages it causes, processed in order
// of their creation logical time until the queue is empty. Each step gets
// a block logical time aligned to 1,000,000 above the previous step's last
// LT, and a unix time from the clock (never going backwards).
//
// Owns: the ledger space "chain" of the store it is given: accounts
// ("a"+workchain+hash), per-account transactions ("t"+workchain+hash+LT)
// and the chain's meta (logical time, unix time, step number). The genesis
// step, run on a fresh store, deploys the faucet wallet with the genesis
// supply.
//
// Invariants:
//   - a step is applied entirely or not at all: all its writes are one
//     durable batch, and in-memory state changes only after that batch
//     commits; a failed or refused step changes nothing;
//   - steps run one at a time (one mutex), so the chain is linear;
//   - an account's transactions have strictly increasing LT, and every
//     transaction's PrevLT/PrevHash name the account's previous one;
//   - the faucet key is derived from a fixed, public seed: it is a
//     TESTNET-ONLY faucet and its wallet must never hold real value.
package emu
