package ratchet

import "testing"

// BenchmarkEncryptDecrypt1KiB measures one 1 KiB message sealed by one end
// and opened by the other, in one chain (no DH ratchet step).
func BenchmarkEncryptDecrypt1KiB(b *testing.B) {
	alice, bob := newPair(b)
	pt := make([]byte, 1024)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		msg, err := alice.Encrypt(pt, adAB)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bob.Decrypt(msg, adAB); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPingPong1KiB alternates senders, so every message makes a DH
// ratchet step (three X25519 operations and a key generation).
func BenchmarkPingPong1KiB(b *testing.B) {
	alice, bob := newPair(b)
	pt := make([]byte, 1024)
	b.SetBytes(int64(len(pt)))
	from, to := alice, bob
	for b.Loop() {
		msg, err := from.Encrypt(pt, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := to.Decrypt(msg, nil); err != nil {
			b.Fatal(err)
		}
		from, to = to, from
	}
}

// BenchmarkSerialize measures MarshalBinary+UnmarshalSession of a session
// with no skipped keys (the chat service stores state after each message).
func BenchmarkSerialize(b *testing.B) {
	alice, _ := newPair(b)
	for b.Loop() {
		st, err := alice.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := UnmarshalSession(st); err != nil {
			b.Fatal(err)
		}
	}
}
