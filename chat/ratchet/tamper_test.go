package ratchet

import (
	"bytes"
	"testing"
)

// anyRefusal lists the errors a corrupted message may get, depending on which
// byte was hit.
var anyRefusal = []error{ErrAuth, ErrMalformed, ErrSessionMismatch, ErrDuplicate, ErrTooManySkipped}

// tamperAll flips bits in every byte of msg and checks that each variant is
// refused without changing s, then that the genuine msg still decrypts.
func tamperAll(t *testing.T, s *Session, msg, ad, want []byte) {
	t.Helper()
	_, hdr, _, err := parseMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range msg {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(msg)
			bad[i] ^= bit
			if i >= len(hdr) {
				mustRefuse(t, s, bad, ad, ErrAuth) // sealed payload: only authentication can catch it
			} else {
				mustRefuse(t, s, bad, ad, anyRefusal...)
			}
		}
	}
	mustRefuse(t, s, msg[:len(msg)-1], ad, ErrAuth, ErrMalformed)
	mustRefuse(t, s, append(bytes.Clone(msg), 0), ad, ErrAuth, ErrMalformed)
	mustRefuse(t, s, msg, append(bytes.Clone(ad), 'x'), ErrAuth)
	mustRefuse(t, s, msg, nil, ErrAuth)
	mustRefuse(t, s, msg, adBA, ErrAuth)
	mustDecrypt(t, s, msg, ad, want)
}

func TestTamperedInitMessageRefused(t *testing.T) {
	a, b := newUser(t), newUser(t)
	alice, err := Initiate(a.ik, b.bundle)
	if err != nil {
		t.Fatal(err)
	}
	first := mustEncrypt(t, alice, []byte("first words"), adAB)
	bob, err := Respond(b.ik, b.prekeys, first)
	if err != nil {
		t.Fatal(err)
	}
	tamperAll(t, bob, first, adAB, []byte("first words"))
	mustDecrypt(t, alice, mustEncrypt(t, bob, []byte("ok"), adBA), adBA, []byte("ok"))
}

func TestTamperedMessagesRefusedStateUnchanged(t *testing.T) {
	alice, bob := newPair(t)
	for i := range 3 {
		mustDecrypt(t, bob, mustEncrypt(t, alice, text(i), adAB), adAB, text(i))
		mustDecrypt(t, alice, mustEncrypt(t, bob, text(i), adBA), adBA, text(i))
	}
	// A message in the current chain, one that starts a new chain (bob sent
	// since alice last did), and a late one opened with a skipped key.
	cur := mustEncrypt(t, alice, []byte("current chain"), adAB)
	tamperAll(t, bob, cur, adAB, []byte("current chain"))

	late := mustEncrypt(t, alice, []byte("late"), adAB)
	mustDecrypt(t, alice, mustEncrypt(t, bob, []byte("turn"), adBA), adBA, []byte("turn"))
	newChain := mustEncrypt(t, alice, []byte("new chain"), adAB)
	tamperAll(t, bob, newChain, adAB, []byte("new chain"))
	tamperAll(t, bob, late, adAB, []byte("late"))

	// Garbage of every short length is malformed.
	for n := range minMessageSize {
		mustRefuse(t, bob, make([]byte, n), adAB, ErrMalformed)
	}
	mustRefuse(t, bob, make([]byte, MaxMessageSize+1), adAB, ErrMalformed)
}
