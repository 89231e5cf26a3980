package ratchet

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// TestSerializeMidConversation runs a random conversation with messages held
// back and delivered out of order, restoring both sessions from their bytes
// at every step.
func TestSerializeMidConversation(t *testing.T) {
	alice, bob := newPair(t)
	rng := rand.New(rand.NewPCG(3, 4))
	type inFlight struct {
		msg []byte
		pt  []byte
	}
	var toBob, toAlice []inFlight
	deliver := func(q []inFlight, to *Session, ad []byte) []inFlight {
		i := rng.IntN(len(q))
		mustDecrypt(t, to, q[i].msg, ad, q[i].pt)
		return append(q[:i], q[i+1:]...)
	}
	for step := range 400 {
		switch r := rng.IntN(10); {
		case r < 3:
			pt := text(step)
			toBob = append(toBob, inFlight{mustEncrypt(t, alice, pt, adAB), pt})
		case r < 6:
			pt := text(step)
			toAlice = append(toAlice, inFlight{mustEncrypt(t, bob, pt, adBA), pt})
		case r < 8 && len(toBob) > 0:
			toBob = deliver(toBob, bob, adAB)
		case len(toAlice) > 0:
			toAlice = deliver(toAlice, alice, adBA)
		}
		alice, bob = restore(t, alice), restore(t, bob)
	}
	for len(toBob) > 0 {
		toBob = deliver(toBob, bob, adAB)
	}
	for len(toAlice) > 0 {
		toAlice = deliver(toAlice, alice, adBA)
	}
	if len(alice.skipped) != 0 || len(bob.skipped) != 0 {
		t.Fatalf("skipped keys left after all deliveries: alice %d, bob %d", len(alice.skipped), len(bob.skipped))
	}
}

func TestRestoreKeepsPendingSkippedKeys(t *testing.T) {
	alice, bob := newPair(t)
	m := make([][]byte, 5)
	for i := range m {
		m[i] = mustEncrypt(t, alice, text(i), adAB)
	}
	mustDecrypt(t, bob, m[4], adAB, text(4))
	bob = restore(t, bob)
	if len(bob.skipped) != 4 {
		t.Fatalf("restored session has %d skipped keys, want 4", len(bob.skipped))
	}
	for _, i := range []int{2, 0, 3, 1} {
		mustDecrypt(t, bob, m[i], adAB, text(i))
	}
	mustRefuse(t, restore(t, bob), m[4], adAB, ErrDuplicate)
}

func TestUnmarshalSessionStrict(t *testing.T) {
	alice, bob := newPair(t)
	mustEncrypt(t, alice, []byte("skip me"), adAB)
	mustDecrypt(t, bob, mustEncrypt(t, alice, []byte("x"), adAB), adAB, []byte("x"))
	mustDecrypt(t, alice, mustEncrypt(t, bob, []byte("y"), adBA), adBA, []byte("y"))
	mustDecrypt(t, bob, mustEncrypt(t, alice, []byte("z"), adAB), adAB, []byte("z"))
	good := state(t, bob)
	if len(bob.skipped) != 1 || len(bob.closed) != 1 {
		t.Fatalf("setup: %d skipped keys and %d closed chains, want 1 and 1", len(bob.skipped), len(bob.closed))
	}
	if _, err := UnmarshalSession(good); err != nil {
		t.Fatal(err)
	}
	for n := range len(good) {
		if _, err := UnmarshalSession(good[:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated to %d bytes: %v, want ErrMalformed", n, err)
		}
	}
	bad := map[string]func([]byte) []byte{
		"trailing byte":   func(b []byte) []byte { return append(b, 0) },
		"version":         func(b []byte) []byte { b[0] = stateVersion + 1; return b },
		"version 1 size":  func(b []byte) []byte { b[0] = stateVersionV1; return b },
		"unknown flag":    func(b []byte) []byte { b[1] |= 0x80; return b },
		"responder sends": func(b []byte) []byte { b[1] |= stSendInit; return b },
		"initiator flag":  func(b []byte) []byte { b[1] |= stInitiator; return b },
		"init identity":   func(b []byte) []byte { b[2+2*keySize] ^= 1; return b },
		"skipped count":   func(b []byte) []byte { b[len(b)-skippedSize-1]++; return b },
		"repeated skipped key": func(b []byte) []byte {
			entry := b[len(b)-skippedSize:]
			b = append(b, entry...)
			b[len(b)-2*skippedSize-1]++
			return b
		},
	}
	for name, mutate := range bad {
		if _, err := UnmarshalSession(mutate(bytes.Clone(good))); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	// A responder before its first Decrypt has absent keys: they must be zero.
	a, b := newUser(t), newUser(t)
	init, err := Initiate(a.ik, b.bundle)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := Respond(b.ik, b.prekeys, mustEncrypt(t, init, nil, adAB))
	if err != nil {
		t.Fatal(err)
	}
	fs := state(t, restore(t, fresh))
	cksAt := 2 + 2*keySize + initHeaderSize + 3*keySize
	fs[cksAt] = 1
	if _, err := UnmarshalSession(fs); !errors.Is(err, ErrMalformed) {
		t.Fatalf("absent sending chain key that is not zero: %v, want ErrMalformed", err)
	}
}

// stateV1 is s's state in the version 1 layout (no floor), as nodes wrote
// it before sending reservations.
func stateV1(t testing.TB, s *Session) []byte {
	t.Helper()
	b := state(t, s)
	at := stateFixedSize - 4 // the floor
	v1 := append(append([]byte{stateVersionV1}, b[1:at]...), b[at+4:]...)
	return v1
}

func TestVersion1StateDecodes(t *testing.T) {
	alice, bob := newPair(t)
	mustDecrypt(t, bob, mustEncrypt(t, alice, []byte("x"), adAB), adAB, []byte("x"))
	old, err := UnmarshalSession(stateV1(t, alice))
	if err != nil {
		t.Fatal(err)
	}
	if old.c.floor != old.c.ns {
		t.Fatalf("version 1 state: floor %d, want Ns %d", old.c.floor, old.c.ns)
	}
	old.Resume()
	mustDecrypt(t, bob, mustEncrypt(t, old, []byte("y"), adAB), adAB, []byte("y"))
}

// TestResumeNeverReusesANumber: messages left after the last state that
// survived a crash; the resumed session's next message is not refused as
// one of them (a reused message key), and without Resume it would be.
func TestResumeNeverReusesANumber(t *testing.T) {
	alice, bob := newPair(t)
	mustDecrypt(t, bob, mustEncrypt(t, alice, []byte("m0"), adAB), adAB, []byte("m0"))
	saved := state(t, alice) // the last durable state
	for i := 1; i <= 3; i++ {
		pt := text(i)
		mustDecrypt(t, bob, mustEncrypt(t, alice, pt, adAB), adAB, pt) // left, state lost
	}
	stale, err := UnmarshalSession(saved)
	if err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, bob, mustEncrypt(t, stale, []byte("reused"), adAB), adAB, ErrDuplicate)

	resumed, err := UnmarshalSession(saved)
	if err != nil {
		t.Fatal(err)
	}
	resumed.Resume()
	mustDecrypt(t, bob, mustEncrypt(t, resumed, []byte("after"), adAB), adAB, []byte("after"))
	if len(bob.skipped) > sendReserve {
		t.Fatalf("bob holds %d skipped keys after a resume, want at most %d", len(bob.skipped), sendReserve)
	}
}

// TestEncryptAhead: a message may leave ahead of its state only when a
// state reported durable reserved its number, on the same sending chain.
func TestEncryptAhead(t *testing.T) {
	alice, bob := newPair(t)
	ahead := func(s *Session) (bool, Reservation) {
		t.Helper()
		msg, ok, res, err := s.EncryptAhead([]byte("m"), adAB)
		if err != nil {
			t.Fatal(err)
		}
		mustDecrypt(t, bob, msg, adAB, []byte("m"))
		return ok, res
	}
	ok, res := ahead(alice)
	if ok {
		t.Fatal("first message ahead of any durable state")
	}
	alice.Durable(res)
	// Only that reservation is known durable: the messages after it are
	// ahead until its numbers are used up.
	n := 0
	for ok, _ := ahead(alice); ok; ok, _ = ahead(alice) {
		n++
	}
	if n < sendReserve/2 || n > sendReserve {
		t.Fatalf("%d messages ahead of a durable reservation, want %d..%d", n, sendReserve/2, sendReserve)
	}
	// A reply starts a new sending chain: the old reservation is no good.
	alice.Durable(res)
	mustDecrypt(t, alice, mustEncrypt(t, bob, []byte("reply"), adBA), adBA, []byte("reply"))
	alice.Durable(res)
	if msg, ok, _, err := alice.EncryptAhead([]byte("n"), adAB); err != nil || ok {
		t.Fatalf("first message of a new chain: ahead %v, %v", ok, err)
	} else {
		mustDecrypt(t, bob, msg, adAB, []byte("n"))
	}
}
