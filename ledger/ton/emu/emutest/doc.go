// Package emutest is test support for code that runs contracts on the
// emulated TON chain (ledger/ton/emu): an Env holding a fresh store, the
// chain on it and a clock the test moves, with helpers that read an
// account's history and balance and follow a message to the transaction it
// caused. It is for tests only; production code must not import it.
//
// Owns: nothing durable. Each Env opens its store in t.TempDir() and closes
// it when the test ends.
//
// Invariants:
//   - the chain reads the time only from the Env's clock, which starts at
//     Start and moves only when the test calls Advance;
//   - every helper that reads the chain fails the test (t.Fatal) on an
//     error instead of returning it, so a helper's result is always usable.
package emutest
