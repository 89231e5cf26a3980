// Package identity turns one 24-word TON mnemonic into every key a tonmesh
// user owns, and keeps that mnemonic on disk.
//
// From the mnemonic it derives:
//   - the TON wallet key (Ed25519), by the standard TON derivation, so that
//     Tonkeeper and other TON wallets recover the same wallet, and the wallet
//     address (v5r1 by default, v4r2 selectable) on mainnet, testnet or the
//     emulated chain (which uses testnet's global ID and address flag);
//   - the libp2p peer key (Ed25519) and so the PeerID;
//   - the X25519 encryption key others seal data to.
//
// It owns: the mnemonic format (BIP-39 English words, TON checksum, no
// password), the key derivations, and the mnemonic file (the keystore).
//
// Invariants:
//   - Derivation is deterministic: the same words always give the same keys,
//     PeerID and addresses, so a lost node is restored from the words alone.
//   - The peer and encryption keys come from the wallet seed through HKDF-SHA256
//     with salt "tonmesh" and distinct info strings ("tonmesh/v1/peer-key",
//     "tonmesh/v1/encryption-key"): neither reveals the wallet key or the other
//     key. These parameters are frozen; a change would give every user a new
//     PeerID and encryption key.
//   - A mnemonic file is only ever created (mode 0600, in a 0700 directory when
//     the directory is new), atomically and durably, never overwritten; it is
//     only read when neither group nor others have access to it.
//   - The package has no mutable package state and starts no goroutines.
//
// Callers must not log or print an Identity's fields: they are secrets.
// Identity's own String and LogValue show only its PeerID.
package identity
