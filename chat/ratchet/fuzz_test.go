package ratchet

import (
	"bytes"
	"testing"
)

func FuzzUnmarshalBundle(f *testing.F) {
	u := newUser(f)
	good, err := u.bundle.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:BundleSize-1])
	f.Add(append(bytes.Clone(good), 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := UnmarshalBundle(data)
		if err != nil {
			return
		}
		again, err := b.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded bundle does not encode: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatal("decoded bundle re-encodes to other bytes")
		}
		_ = b.Verify() // must not panic
	})
}

func FuzzUnmarshalSession(f *testing.F) {
	alice, bob := newPair(f)
	f.Add(state(f, alice))
	f.Add(state(f, bob))
	mustEncrypt(f, alice, []byte("skipped"), adAB)
	mustDecrypt(f, bob, mustEncrypt(f, alice, []byte("x"), adAB), adAB, []byte("x"))
	mustDecrypt(f, alice, mustEncrypt(f, bob, []byte("y"), adBA), adBA, []byte("y"))
	mustDecrypt(f, bob, mustEncrypt(f, alice, []byte("z"), adAB), adAB, []byte("z"))
	f.Add(state(f, bob))
	f.Add(state(f, alice))
	f.Add([]byte{stateVersion})
	f.Add(stateV1(f, alice))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := UnmarshalSession(data)
		if err != nil {
			return
		}
		again, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded session does not encode: %v", err)
		}
		if data[0] == stateVersionV1 {
			// Version 1 is encoded as the current version, which must then
			// decode and re-encode to itself.
			data = again
			v2, err := UnmarshalSession(again)
			if err != nil {
				t.Fatalf("re-encoded version 1 state does not decode: %v", err)
			}
			if again, _ = v2.MarshalBinary(); !bytes.Equal(again, data) {
				t.Fatal("re-encoded version 1 state re-encodes to other bytes")
			}
		}
		if !bytes.Equal(again, data) {
			t.Fatal("decoded session re-encodes to other bytes")
		}
		// A decoded session is usable without panics, resumed or not, and
		// a resumed one sends from at least its floor.
		if msg, err := s.Encrypt([]byte("p"), adAB); err == nil {
			_, _ = s.Decrypt(msg, adAB)
		}
		floor := s.c.floor
		s.Resume()
		if msg, _, res, err := s.EncryptAhead([]byte("q"), adAB); err == nil {
			if h, _, _, perr := parseMessage(msg); perr != nil || h.n < floor || res.floor <= h.n {
				t.Fatalf("resumed session sent number %d (floor %d, new floor %d): %v", h.n, floor, res.floor, perr)
			}
		}
	})
}

// FuzzDecryptGarbage feeds arbitrary bytes to Decrypt (of a responder before
// and after its first message, and of an initiator) and to Respond: none may
// panic, and a refused message leaves the session's state as it was.
func FuzzDecryptGarbage(f *testing.F) {
	a, b := newUser(f), newUser(f)
	alice, err := Initiate(a.ik, b.bundle)
	if err != nil {
		f.Fatal(err)
	}
	first := mustEncrypt(f, alice, []byte("first"), adAB)
	fresh, err := Respond(b.ik, b.prekeys, first)
	if err != nil {
		f.Fatal(err)
	}
	freshState := state(f, fresh)
	mustDecrypt(f, fresh, first, adAB, []byte("first"))
	second := mustEncrypt(f, alice, []byte("second"), adAB)
	reply := mustEncrypt(f, fresh, []byte("reply"), adBA)
	sessions := map[string][]byte{
		"fresh responder": freshState,
		"responder":       state(f, fresh),
		"initiator":       state(f, alice),
	}
	// Genuine messages decrypt for some session: those are not garbage.
	genuine := [][]byte{first, second, reply}
	for _, m := range genuine {
		f.Add(m)
		bad := bytes.Clone(m)
		bad[len(bad)-1] ^= 1
		f.Add(bad)
	}
	f.Add([]byte{wireVersion, flagInit})
	f.Add(make([]byte, minMessageSize))

	f.Fuzz(func(t *testing.T, data []byte) {
		isGenuine := false
		for _, m := range genuine {
			isGenuine = isGenuine || bytes.Equal(m, data)
		}
		for name, st := range sessions {
			s, err := UnmarshalSession(st)
			if err != nil {
				t.Fatal(err)
			}
			for _, ad := range [][]byte{adAB, adBA} {
				pt, err := s.Decrypt(data, ad)
				if err == nil {
					if !isGenuine {
						t.Fatalf("%s decrypted garbage to %q", name, pt)
					}
					break // the state moved on, legitimately
				}
				if after := state(t, s); !bytes.Equal(after, st) {
					t.Fatalf("%s changed its state on error %v", name, err)
				}
			}
		}
		if s, err := Respond(b.ik, b.prekeys, data); err == nil {
			if _, err := s.MarshalBinary(); err != nil {
				t.Fatalf("session from Respond does not encode: %v", err)
			}
		}
		_ = IsInitMessage(data)
	})
}
