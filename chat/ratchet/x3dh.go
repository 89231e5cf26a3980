package ratchet

import (
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
)

// Initiate runs X3DH as the sender against theirs (verified here) and returns
// a session whose messages carry an init header until a reply is decrypted.
// ourIdentity is our X25519 identity key.
func Initiate(ourIdentity *ecdh.PrivateKey, theirs *Bundle) (*Session, error) {
	if ourIdentity == nil || ourIdentity.Curve() != ecdh.X25519() {
		return nil, fmt.Errorf("ratchet: initiate: our identity must be an X25519 private key")
	}
	if theirs == nil {
		return nil, fmt.Errorf("ratchet: initiate: no bundle")
	}
	if err := theirs.Verify(); err != nil {
		return nil, fmt.Errorf("ratchet: initiate: %w", err)
	}
	var theirIK, theirSPK key
	copy(theirIK[:], theirs.IdentityKey)
	copy(theirSPK[:], theirs.SignedPrekey)

	ek, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("ratchet: initiate: generate ephemeral key: %w", err)
	}
	dh1, err := dh(ourIdentity, theirSPK)
	if err != nil {
		return nil, fmt.Errorf("ratchet: initiate: their signed prekey: %w", err)
	}
	dh2, err := dh(ek, theirIK)
	if err != nil {
		return nil, fmt.Errorf("ratchet: initiate: their identity key: %w", err)
	}
	dh3, err := dh(ek, theirSPK)
	if err != nil {
		return nil, fmt.Errorf("ratchet: initiate: their signed prekey: %w", err)
	}
	sk, err := x3dhSecret(dh1, dh2, dh3)
	if err != nil {
		return nil, err
	}

	// First ratchet step of the Double Ratchet (RatchetInitAlice): a fresh
	// ratchet key against the responder's signed prekey.
	dhs, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("ratchet: initiate: generate ratchet key: %w", err)
	}
	out, err := dh(dhs, theirSPK)
	if err != nil {
		return nil, fmt.Errorf("ratchet: initiate: %w", err)
	}
	rk, cks, err := kdfRoot(sk, out)
	if err != nil {
		return nil, err
	}
	ourIK := pubKey(ourIdentity)
	s := &Session{
		initiator: true,
		sendInit:  true,
		ourIK:     ourIK,
		theirIK:   theirIK,
		init:      initHeader{identity: ourIK, ephemeral: pubKey(ek), prekeyID: theirs.PrekeyID},
		c: chains{
			dhs: dhs, dhsPub: pubKey(dhs),
			dhr: theirSPK, hasDHr: true,
			rk:  rk,
			cks: cks, hasCKs: true,
		},
		skipped: make(map[skipID]key),
	}
	return s, nil
}

// Respond runs X3DH as the receiver from the bytes of the first message it got
// from a new peer; prekeys maps PrekeyID to the signed prekey's private key.
// The returned session has not decrypted anything yet: call Decrypt on the
// same message next (and drop the session if that fails).
func Respond(ourIdentity *ecdh.PrivateKey, prekeys map[uint32]*ecdh.PrivateKey, firstMessage []byte) (*Session, error) {
	if ourIdentity == nil || ourIdentity.Curve() != ecdh.X25519() {
		return nil, fmt.Errorf("ratchet: respond: our identity must be an X25519 private key")
	}
	h, _, _, err := parseMessage(firstMessage)
	if err != nil {
		return nil, fmt.Errorf("ratchet: respond: %w", err)
	}
	if !h.hasInit {
		return nil, fmt.Errorf("%w: respond: the message has no init header; it belongs to an existing session", ErrMalformed)
	}
	spk := prekeys[h.init.prekeyID]
	if spk == nil {
		return nil, fmt.Errorf("%w: respond: prekey %d is not among the %d kept; the sender used an old or foreign bundle and must fetch the current one", ErrUnknownPrekey, h.init.prekeyID, len(prekeys))
	}
	if spk.Curve() != ecdh.X25519() {
		return nil, fmt.Errorf("ratchet: respond: prekey %d is not an X25519 key", h.init.prekeyID)
	}
	dh1, err := dh(spk, h.init.identity)
	if err != nil {
		return nil, fmt.Errorf("ratchet: respond: initiator identity key: %w", err)
	}
	dh2, err := dh(ourIdentity, h.init.ephemeral)
	if err != nil {
		return nil, fmt.Errorf("ratchet: respond: initiator ephemeral key: %w", err)
	}
	dh3, err := dh(spk, h.init.ephemeral)
	if err != nil {
		return nil, fmt.Errorf("ratchet: respond: initiator ephemeral key: %w", err)
	}
	sk, err := x3dhSecret(dh1, dh2, dh3)
	if err != nil {
		return nil, err
	}
	// RatchetInitBob: our first ratchet key is the signed prekey; the sending
	// chain starts at the first DH ratchet step, in Decrypt.
	s := &Session{
		ourIK:   pubKey(ourIdentity),
		theirIK: h.init.identity,
		init:    h.init,
		c:       chains{dhs: spk, dhsPub: pubKey(spk), rk: sk},
		skipped: make(map[skipID]key),
	}
	return s, nil
}
