// Package wallet is a node's TON wallet: it signs and sends transfers from
// the node's wallet contract (v5r1 by default, v4r2 selectable) over any
// ton.Chain, and records the deposits the wallet receives into the ledger.
//
// Sending. A Wallet serialises its orders: it reads the seqno (the
// contract's get-method, or 0 while the wallet is not deployed), checks the
// balance covers amount plus a fee reserve before signing, signs the order
// with valid_until taken from its own clock (WithClock: pass the emulated
// chain's clock there), attaches the wallet's state init while the wallet is
// not yet active (deploy on first use), submits it, and waits until the
// chain shows the seqno went up and the wallet's transaction for the
// message. The Receipt names the message hash and that transaction.
//
// Deposits. Deposits scans the account's transactions after a cursor (an
// LT) and records each incoming internal value transfer that stayed (not a
// bounce) as a Deposit.
//
// Owns: the keys of the ledger space it is given (SpaceName, "wallet"),
// all prefixed by the watched account, so several wallets can share one
// space; see deposits.go for the layout.
//
// Invariants:
//   - at most one order of a Wallet is in flight at a time, and seqnos are
//     used in order; a second process with the same key is detected (its
//     orders use our seqnos) and reported, not silently retried;
//   - nothing is signed when the balance is short, the amount is not
//     positive or the destination is not a standard address;
//   - a deposit is recorded at most once (by transaction hash), and the
//     deposits, the running total and the cursor of one scanned page are
//     written in one durable batch: a crash never loses or doubles a credit.
package wallet
