package ratchet

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
)

var (
	adAB = []byte("alice->bob")
	adBA = []byte("bob->alice")
)

// user holds the long-term keys of one test identity and its kept prekeys.
type user struct {
	ik      *ecdh.PrivateKey
	sign    ed25519.PrivateKey
	bundle  *Bundle
	prekeys map[uint32]*ecdh.PrivateKey
}

func newUser(t testing.TB) *user {
	t.Helper()
	ik, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, sign, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	u := &user{ik: ik, sign: sign, prekeys: map[uint32]*ecdh.PrivateKey{}}
	u.rotate(t, 7)
	return u
}

// rotate publishes a new prekey with id, keeping the old ones.
func (u *user) rotate(t testing.TB, id uint32) {
	t.Helper()
	b, spk, err := NewSignedPrekey(u.sign, u.ik, id)
	if err != nil {
		t.Fatal(err)
	}
	u.bundle = b
	u.prekeys[id] = spk
}

// newPair starts a session from alice to bob; bob has decrypted alice's first
// message, so both can send.
func newPair(t testing.TB) (alice, bob *Session) {
	t.Helper()
	a, b := newUser(t), newUser(t)
	alice, err := Initiate(a.ik, b.bundle)
	if err != nil {
		t.Fatalf("Initiate: %v", err)
	}
	first := mustEncrypt(t, alice, []byte("hello bob"), adAB)
	if !IsInitMessage(first) {
		t.Fatal("first message carries no init header")
	}
	bob, err = Respond(b.ik, b.prekeys, first)
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	mustDecrypt(t, bob, first, adAB, []byte("hello bob"))
	if !bytes.Equal(bob.PeerIdentity(), a.ik.PublicKey().Bytes()) {
		t.Fatal("bob's session names the wrong peer")
	}
	if !bytes.Equal(alice.PeerIdentity(), b.ik.PublicKey().Bytes()) {
		t.Fatal("alice's session names the wrong peer")
	}
	return alice, bob
}

func mustEncrypt(t testing.TB, s *Session, pt, ad []byte) []byte {
	t.Helper()
	msg, err := s.Encrypt(pt, ad)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return msg
}

func mustDecrypt(t testing.TB, s *Session, msg, ad, want []byte) {
	t.Helper()
	got, err := s.Decrypt(msg, ad)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Decrypt = %q, want %q", got, want)
	}
}

func state(t testing.TB, s *Session) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	return b
}

func restore(t testing.TB, s *Session) *Session {
	t.Helper()
	b := state(t, s)
	r, err := UnmarshalSession(b)
	if err != nil {
		t.Fatalf("UnmarshalSession: %v", err)
	}
	if again := state(t, r); !bytes.Equal(again, b) {
		t.Fatal("restored session re-encodes to different bytes")
	}
	return r
}

// mustRefuse decrypts msg expecting one of the errors in want and checks
// that the session state did not change.
func mustRefuse(t testing.TB, s *Session, msg, ad []byte, want ...error) {
	t.Helper()
	before := state(t, s)
	pt, err := s.Decrypt(msg, ad)
	if err == nil {
		t.Fatalf("Decrypt accepted a bad message (plaintext %q)", pt)
	}
	if !isAny(err, want...) {
		t.Fatalf("Decrypt error %v, want one of %v", err, want)
	}
	if !bytes.Equal(before, state(t, s)) {
		t.Fatalf("Decrypt changed the session on error %v", err)
	}
}

func isAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

func text(i int) []byte { return fmt.Appendf(nil, "message %d", i) }
