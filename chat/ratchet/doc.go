// Package ratchet is the cryptographic core of tonmesh chat: an X3DH-style key
// agreement (without one-time prekeys) followed by the Double Ratchet, in the
// structure of the Signal specifications, with tonmesh's own wire format.
//
// It owns:
//   - the prekey Bundle a user publishes (the chat service wraps it in a signed
//     DHT record) and its binary encoding;
//   - the message wire format (version 1, below) and the session state encoding
//     that the chat service stores in Pebble;
//   - every KDF, with domain-separated info strings "tonmesh/chat/v1/...".
//
// It does no I/O, keeps no package state and starts no goroutines.
//
// Key agreement. A user publishes an X25519 identity key, an Ed25519 signing
// key and an X25519 signed prekey. Prekeys live in DHT records and cannot be
// consumed, so there are no one-time prekeys: the initiator A computes, with an
// ephemeral key EK,
//
//	DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B), DH3 = DH(EK_A, SPK_B)
//	SK  = HKDF-SHA256(salt = 0^32, ikm = 0xFF^32 || DH1 || DH2 || DH3, info = "tonmesh/chat/v1/x3dh")
//
// and starts the Double Ratchet with SK and SPK_B as the responder's first
// ratchet key. Until A has decrypted a reply, every message A sends carries an
// init header (IK_A, EK_A, prekey id) so that B can Respond to whichever of
// them arrives first. Without one-time prekeys an attacker who replays A's
// init message to a responder without a session makes it derive the same
// session again; the chat service must refuse a second session for the same
// (IK_A, EK_A) pair if it cares (Session.InitKey gives it).
//
// Message wire format, version 1 (all integers big-endian):
//
//	version  1 byte   = 1
//	flags    1 byte   bit 0: init header present; other bits must be 0
//	[init]   68 bytes IK_A (32) || EK_A (32) || prekey id (4)     only with flag bit 0
//	dh       32 bytes sender's current ratchet public key
//	pn       4 bytes  number of messages in the sender's previous sending chain
//	n        4 bytes  index of this message in the current sending chain
//	sealed   rest     ChaCha20-Poly1305(plaintext), 16..MaxPlaintext+16 bytes
//
// The AEAD key and nonce come from the message key by HKDF-Expand ("tonmesh/chat/v1/
// message-keys"); each message key is used once. The AEAD associated data is
// "tonmesh/chat/v1/ad" || IK_initiator || IK_responder || len(ad) (4 bytes) ||
// ad || header, where ad is the caller's (for example sender and recipient
// ids), so every header byte and the caller's binding are authenticated.
//
// Invariants:
//   - Decrypt and Encrypt change a session only on success: Decrypt works on a
//     copy of the chain state and commits after the AEAD opened the message.
//   - A message key is deleted as soon as its message is decrypted; chain keys
//     only move forward; so neither the live nor the serialized state of a
//     session holds a key that decrypts a message it has already decrypted
//     (forward secrecy). Such a message gets ErrDuplicate (ErrAuth once its
//     chain is older than the last 32 the session remembers by public key).
//   - At most MaxSkip message keys are skipped in one chain by one message
//     (more is ErrTooManySkipped); at most MaxSkippedTotal are kept, the oldest
//     evicted first (an evicted message then gets ErrDuplicate).
//   - Decoders (UnmarshalBundle, UnmarshalSession, message parsing) are strict:
//     exact sizes, known versions and flags, no trailing bytes; a decoded
//     value re-encodes to the same bytes (a version 1 session state to
//     version 2).
//   - A sending number (message key) is used at most once, even across a
//     crash that lost states written after a message left: every state
//     reserves a few numbers ahead, EncryptAhead says ahead only for numbers
//     a state reported Durable reserved, and a state read back after a
//     restart must be Resumed (it skips what it reserved) before it sends.
//   - A Session is safe for concurrent use (one mutex), but the chat service
//     must persist its state after each successful call before acknowledging.
package ratchet
