package ratchet

import (
	"errors"
	"testing"
)

// sendN encrypts n messages from s and returns them.
func sendN(t *testing.T, s *Session, n int, ad []byte) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for i := range out {
		out[i] = mustEncrypt(t, s, text(i), ad)
	}
	return out
}

func TestSkipLimitPerChain(t *testing.T) {
	alice, bob := newPair(t)
	msgs := sendN(t, alice, MaxSkip+2, adAB)
	// Index MaxSkip+1 would skip MaxSkip+1 keys: refused, state unchanged.
	mustRefuse(t, bob, msgs[MaxSkip+1], adAB, ErrTooManySkipped)
	// Index MaxSkip skips exactly MaxSkip: allowed.
	mustDecrypt(t, bob, msgs[MaxSkip], adAB, text(MaxSkip))
	if len(bob.skipped) != MaxSkip {
		t.Fatalf("%d skipped keys, want %d", len(bob.skipped), MaxSkip)
	}
	mustDecrypt(t, bob, msgs[MaxSkip+1], adAB, text(MaxSkip+1))
	mustDecrypt(t, bob, msgs[17], adAB, text(17))
}

func TestSkipLimitOnRatchetStep(t *testing.T) {
	alice, bob := newPair(t)
	// alice's current chain ends with MaxSkip+2 messages; bob reads only the
	// first, then a message of alice's next chain would make him skip the
	// other MaxSkip+1.
	msgs := sendN(t, alice, MaxSkip+2, adAB)
	mustDecrypt(t, bob, msgs[0], adAB, text(0))
	mustDecrypt(t, alice, mustEncrypt(t, bob, []byte("r"), adBA), adBA, []byte("r"))
	next := mustEncrypt(t, alice, []byte("next chain"), adAB)
	mustRefuse(t, bob, next, adAB, ErrTooManySkipped)
	// Reading one more of the old chain brings the gap to MaxSkip.
	mustDecrypt(t, bob, msgs[1], adAB, text(1))
	mustDecrypt(t, bob, next, adAB, []byte("next chain"))
	if len(bob.skipped) != MaxSkip {
		t.Fatalf("%d skipped keys, want %d", len(bob.skipped), MaxSkip)
	}
}

func TestSkippedTotalEvictsOldest(t *testing.T) {
	alice, bob := newPair(t)
	// Three of alice's chains, each with MaxSkip messages bob skips; between
	// chains bob replies so that alice ratchets.
	var chains [3][][]byte
	for c := range chains {
		chains[c] = sendN(t, alice, MaxSkip+1, adAB)
		mustDecrypt(t, bob, chains[c][MaxSkip], adAB, text(MaxSkip))
		mustDecrypt(t, alice, mustEncrypt(t, bob, []byte("r"), adBA), adBA, []byte("r"))
	}
	if len(bob.skipped) != MaxSkippedTotal || len(bob.order) != MaxSkippedTotal {
		t.Fatalf("%d skipped keys (%d in order), want the cap %d", len(bob.skipped), len(bob.order), MaxSkippedTotal)
	}
	// The whole first chain was evicted (oldest first): those messages are
	// gone for good, and say so as duplicates.
	for _, i := range []int{0, 1, MaxSkip - 1} {
		if _, err := bob.Decrypt(chains[0][i], adAB); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("evicted message %d of the first chain: %v, want ErrDuplicate", i, err)
		}
	}
	// The two newer chains are kept in full.
	for c := 1; c < 3; c++ {
		for _, i := range []int{0, MaxSkip / 2, MaxSkip - 1} {
			mustDecrypt(t, bob, chains[c][i], adAB, text(i))
		}
	}
	if len(bob.skipped) != MaxSkippedTotal-6 {
		t.Fatalf("%d skipped keys after using 6, want %d", len(bob.skipped), MaxSkippedTotal-6)
	}
	// Restoring keeps the cap and the order.
	r := restore(t, bob)
	mustDecrypt(t, r, chains[2][3], adAB, text(3))
}
