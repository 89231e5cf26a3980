package ratchet

import (
	"errors"
	"testing"
)

// chainSteps is how far a window of the state is followed as a chain key.
const chainSteps = 8

// keyInState searches every 32-byte window of a serialized state for a key
// that opens msg: as a message key, or as a chain key followed chainSteps
// steps. It returns the offset found, or -1.
func keyInState(t *testing.T, st []byte, s *Session, msg, ad []byte) int {
	t.Helper()
	_, hdr, sealed, err := parseMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	iIK, rIK := s.identities()
	fullAD := associatedData(iIK, rIK, ad, hdr)
	for off := 0; off+keySize <= len(st); off++ {
		var w key
		copy(w[:], st[off:])
		if _, err := open(w, sealed, fullAD); err == nil {
			return off
		}
		ck := w
		for range chainSteps {
			next, mk := kdfChain(ck)
			if _, err := open(mk, sealed, fullAD); err == nil {
				return off
			}
			ck = next
		}
	}
	return -1
}

func TestForwardSecrecy(t *testing.T) {
	alice, bob := newPair(t)
	captured := mustEncrypt(t, alice, []byte("the old secret"), adAB)
	mustDecrypt(t, bob, captured, adAB, []byte("the old secret"))
	for i := range 3 {
		mustDecrypt(t, bob, mustEncrypt(t, alice, text(i), adAB), adAB, text(i))
		mustDecrypt(t, alice, mustEncrypt(t, bob, text(i), adBA), adBA, text(i))
	}

	// Controls: the search does find keys a state still holds, so its
	// failure below means something. A skipped message's key, and a message
	// the current receiving chain has not reached yet.
	skippedMsg := mustEncrypt(t, alice, []byte("skipped"), adAB)
	mustDecrypt(t, bob, mustEncrypt(t, alice, []byte("after"), adAB), adAB, []byte("after"))
	if keyInState(t, state(t, bob), bob, skippedMsg, adAB) < 0 {
		t.Fatal("control: the key of a skipped message was not found in the state that keeps it")
	}
	mustDecrypt(t, bob, skippedMsg, adAB, []byte("skipped"))
	future := mustEncrypt(t, alice, []byte("not yet read"), adAB)
	if keyInState(t, state(t, bob), bob, future, adAB) < 0 {
		t.Fatal("control: the chain key of an unread message was not found")
	}
	mustDecrypt(t, bob, future, adAB, []byte("not yet read"))

	// The captured message: a session restored from bob's current state
	// refuses it, and no key in that state (nor in alice's) opens it.
	current := state(t, bob)
	restored, err := UnmarshalSession(current)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := restored.Decrypt(captured, adAB); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("restored session on a captured old message: %v, want ErrDuplicate", err)
	}
	if off := keyInState(t, current, bob, captured, adAB); off >= 0 {
		t.Fatalf("bob's current state holds a key (at offset %d) that opens a message it already read", off)
	}
	if off := keyInState(t, state(t, alice), alice, captured, adAB); off >= 0 {
		t.Fatalf("alice's current state holds a key (at offset %d) that opens a message she sent", off)
	}
	// Skipped keys that were used are gone too.
	if off := keyInState(t, current, bob, skippedMsg, adAB); off >= 0 {
		t.Fatalf("bob's state still holds the key of a skipped message it opened (offset %d)", off)
	}
}
