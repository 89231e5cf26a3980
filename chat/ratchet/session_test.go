package ratchet

import (
	"crypto/ecdh"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestRoundTripAlternations(t *testing.T) {
	alice, bob := newPair(t)
	if !alice.Initiator() || bob.Initiator() {
		t.Fatal("roles are wrong")
	}
	seq := 0
	for round := range 60 {
		// Alice sends a burst, Bob reads it, then Bob sends a burst back.
		for range round%3 + 1 {
			seq++
			msg := mustEncrypt(t, alice, text(seq), adAB)
			if round == 0 && !IsInitMessage(msg) {
				t.Fatal("alice's messages before any reply must carry the init header")
			}
			if round > 0 && IsInitMessage(msg) {
				t.Fatalf("round %d: alice still sends init headers after a reply", round)
			}
			mustDecrypt(t, bob, msg, adAB, text(seq))
		}
		for range round%4 + 1 {
			seq++
			msg := mustEncrypt(t, bob, text(seq), adBA)
			if IsInitMessage(msg) {
				t.Fatal("the responder never sends init headers")
			}
			mustDecrypt(t, alice, msg, adBA, text(seq))
		}
	}
	// Messages in one direction only keep working too, and every alternation
	// above moved the ratchet: the ratchet keys differ from the first ones.
	for i := range 20 {
		mustDecrypt(t, alice, mustEncrypt(t, bob, text(i), adBA), adBA, text(i))
	}
}

func TestEmptyAndMaxPlaintext(t *testing.T) {
	alice, bob := newPair(t)
	mustDecrypt(t, bob, mustEncrypt(t, alice, nil, adAB), adAB, nil)
	big := make([]byte, MaxPlaintext)
	for i := range big {
		big[i] = byte(i)
	}
	msg := mustEncrypt(t, alice, big, adAB)
	if len(msg) > MaxMessageSize {
		t.Fatalf("message of %d bytes exceeds MaxMessageSize %d", len(msg), MaxMessageSize)
	}
	mustDecrypt(t, bob, msg, adAB, big)
	if _, err := alice.Encrypt(make([]byte, MaxPlaintext+1), adAB); err == nil {
		t.Fatal("Encrypt accepted a plaintext over MaxPlaintext")
	}
}

func TestOutOfOrderAcrossRatchetSteps(t *testing.T) {
	alice, bob := newPair(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var msgs [][]byte
	// 25 messages in alice's current chain, a reply from bob that alice reads
	// (so her next messages use a new ratchet key), then 25 more.
	for i := range 25 {
		msgs = append(msgs, mustEncrypt(t, alice, text(i), adAB))
	}
	mustDecrypt(t, alice, mustEncrypt(t, bob, []byte("reply"), adBA), adBA, []byte("reply"))
	for i := 25; i < 50; i++ {
		msgs = append(msgs, mustEncrypt(t, alice, text(i), adAB))
	}
	perm := rng.Perm(len(msgs))
	for _, i := range perm {
		mustDecrypt(t, bob, msgs[i], adAB, text(i))
	}
	if n := len(bob.skipped); n != 0 {
		t.Fatalf("%d skipped keys left after every message arrived", n)
	}
	// Every one of them is now a duplicate, whichever chain it came from.
	for _, i := range perm {
		mustRefuse(t, bob, msgs[i], adAB, ErrDuplicate)
	}
	// And the conversation goes on.
	mustDecrypt(t, alice, mustEncrypt(t, bob, []byte("still here"), adBA), adBA, []byte("still here"))
}

func TestDuplicatesRefused(t *testing.T) {
	alice, bob := newPair(t)
	var history [][]byte
	for i := range 6 {
		m := mustEncrypt(t, alice, text(i), adAB)
		mustDecrypt(t, bob, m, adAB, text(i))
		mustRefuse(t, bob, m, adAB, ErrDuplicate) // right away
		history = append(history, m)
		mustDecrypt(t, alice, mustEncrypt(t, bob, text(i), adBA), adBA, text(i))
	}
	// Later, after several ratchet steps: old chains are remembered.
	for _, m := range history {
		mustRefuse(t, bob, m, adAB, ErrDuplicate)
	}
	// A skipped message opened late is a duplicate afterwards too.
	m1 := mustEncrypt(t, alice, []byte("one"), adAB)
	m2 := mustEncrypt(t, alice, []byte("two"), adAB)
	mustDecrypt(t, bob, m2, adAB, []byte("two"))
	mustDecrypt(t, bob, m1, adAB, []byte("one"))
	mustRefuse(t, bob, m1, adAB, ErrDuplicate)
	mustRefuse(t, bob, m2, adAB, ErrDuplicate)
}

func TestResponderCannotSendFirst(t *testing.T) {
	a, b := newUser(t), newUser(t)
	alice, err := Initiate(a.ik, b.bundle)
	if err != nil {
		t.Fatal(err)
	}
	first := mustEncrypt(t, alice, []byte("hi"), adAB)
	bob, err := Respond(b.ik, b.prekeys, first)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Encrypt([]byte("too early"), adBA); !errors.Is(err, ErrCannotSend) {
		t.Fatalf("Encrypt before the first Decrypt: %v, want ErrCannotSend", err)
	}
	// A failed first Decrypt (wrong ad) leaves it unable to send, then the
	// right one works.
	mustRefuse(t, bob, first, adBA, ErrAuth)
	mustDecrypt(t, bob, first, adAB, []byte("hi"))
	mustDecrypt(t, alice, mustEncrypt(t, bob, []byte("hey"), adBA), adBA, []byte("hey"))
}

func TestInitHeaderOfAnotherSession(t *testing.T) {
	a, b := newUser(t), newUser(t)
	alice, err := Initiate(a.ik, b.bundle)
	if err != nil {
		t.Fatal(err)
	}
	first := mustEncrypt(t, alice, []byte("hi"), adAB)
	bob, err := Respond(b.ik, b.prekeys, first)
	if err != nil {
		t.Fatal(err)
	}
	mustDecrypt(t, bob, first, adAB, []byte("hi"))
	// Alice loses her state and starts over: the old session refuses the new
	// init message with ErrSessionMismatch, and Respond builds the new one.
	alice2, err := Initiate(a.ik, b.bundle)
	if err != nil {
		t.Fatal(err)
	}
	again := mustEncrypt(t, alice2, []byte("hi again"), adAB)
	mustRefuse(t, bob, again, adAB, ErrSessionMismatch)
	bob2, err := Respond(b.ik, b.prekeys, again)
	if err != nil {
		t.Fatal(err)
	}
	mustDecrypt(t, bob2, again, adAB, []byte("hi again"))
	if string(bob2.InitKey()) == string(bob.InitKey()) {
		t.Fatal("two sessions share an init key")
	}
	// An initiator never accepts init headers.
	mustRefuse(t, alice, again, adAB, ErrSessionMismatch)
}

func TestRespondErrors(t *testing.T) {
	a, b := newUser(t), newUser(t)
	alice, err := Initiate(a.ik, b.bundle) // prekey 7
	if err != nil {
		t.Fatal(err)
	}
	first := mustEncrypt(t, alice, []byte("hi"), adAB)

	_, err = Respond(b.ik, map[uint32]*ecdh.PrivateKey{}, first)
	if !errors.Is(err, ErrUnknownPrekey) || !strings.Contains(err.Error(), "prekey 7") {
		t.Fatalf("Respond without prekey 7: %v, want ErrUnknownPrekey naming prekey 7", err)
	}
	// After a rotation bob keeps the previous prekey, so the session works.
	b.rotate(t, 8)
	bob, err := Respond(b.ik, b.prekeys, first)
	if err != nil {
		t.Fatalf("Respond with the previous prekey kept: %v", err)
	}
	mustDecrypt(t, bob, first, adAB, []byte("hi"))

	// A non-init message is not something to Respond to.
	reply := mustEncrypt(t, bob, []byte("r"), adBA)
	if _, err := Respond(a.ik, a.prekeys, reply); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Respond to a non-init message: %v, want ErrMalformed", err)
	}
	// The wrong identity key derives another secret: Respond cannot tell, the
	// first Decrypt refuses.
	other := newUser(t)
	wrong, err := Respond(other.ik, b.prekeys, first)
	if err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, wrong, first, adAB, ErrAuth)
}
