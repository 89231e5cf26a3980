// Package edverify checks Ed25519 signatures with exactly the acceptance
// rules of crypto/ed25519, in about half its time.
//
// Signatures are most of what validating network input costs (a gossiped
// bid, a usage receipt, a voucher): crypto/ed25519 takes about 60 µs per
// verification on this project's machines, the vectorised implementation
// used here about 33 µs. Speed must not change what is accepted, or nodes
// on different code would disagree about the same message, so every call
// uses curve25519-voi's crypto/ed25519-compatible preset: cofactorless
// verification, small-order and non-canonical public keys accepted as the
// standard library accepts them, and s and R checked as it checks them.
// TestMatchesStdlib and FuzzMatchesStdlib hold the two to the same answer on
// valid, altered and malformed inputs.
//
// Invariants:
//   - Verify(pub, msg, sig) == crypto/ed25519.Verify(pub, msg, sig) for
//     every input, including keys and signatures of the wrong length (false,
//     where the standard library panics on a key of the wrong length).
//   - PeerKey takes the fast path only for libp2p Ed25519 keys; any other
//     key type is verified by the key itself, unchanged.
package edverify

import (
	"crypto/ed25519"
	"errors"

	"github.com/libp2p/go-libp2p/core/crypto"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

var errNoKey = errors.New("edverify: no public key to verify with")

// stdlib is the preset whose acceptance equals crypto/ed25519's.
var stdlib = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// Verify reports whether sig is pub's valid signature of msg, by the rules
// of crypto/ed25519.Verify. A key or signature of the wrong length is
// invalid.
func Verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return voi.VerifyWithOptions(voi.PublicKey(pub), msg, sig, stdlib)
}

// PeerKey reports whether sig is pub's valid signature of msg, as
// pub.Verify(msg, sig) does, on the fast path when pub is an Ed25519 key.
func PeerKey(pub crypto.PubKey, msg, sig []byte) (bool, error) {
	if pub == nil {
		return false, errNoKey
	}
	if pub.Type() != crypto.Ed25519 {
		return pub.Verify(msg, sig)
	}
	raw, err := pub.Raw()
	if err != nil {
		return false, err
	}
	return Verify(raw, msg, sig), nil
}
