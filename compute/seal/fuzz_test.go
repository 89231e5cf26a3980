package seal

import (
	"bytes"
	"testing"
)

func FuzzUnmarshalEnvelope(f *testing.F) {
	k := mustKey(f)
	env, _, err := SealRequest(k.Public(), testMeta(), []byte(`{"model":"m"}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(env.Marshal())
	f.Add([]byte{envelopeVersion})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := UnmarshalEnvelope(b)
		if err != nil {
			return
		}
		if !bytes.Equal(e.Marshal(), b) {
			t.Fatalf("decoded envelope re-encodes differently")
		}
		if body, _, err := OpenRequest(k, e, testNow); err == nil && !bytes.Equal(body, []byte(`{"model":"m"}`)) {
			t.Fatalf("a fuzzed envelope opened to %q", body)
		}
	})
}

func FuzzUnmarshalRecord(f *testing.F) {
	k := mustKey(f)
	env, _, _ := SealRequest(k.Public(), testMeta(), nil)
	_, rs, err := OpenRequest(k, env, testNow)
	if err != nil {
		f.Fatal(err)
	}
	first, _ := rs.Seal([]byte("chunk"))
	fin, _ := rs.Final([]byte("trailer"))
	f.Add(first)
	f.Add(fin)
	f.Add([]byte{byte(RecordError), 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := UnmarshalRecord(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Marshal(), b) {
			t.Fatalf("decoded record re-encodes differently")
		}
	})
}

// FuzzResponseOpener feeds an opener a valid first record followed by
// arbitrary bytes: it must not panic, and must not accept anything after a
// failure or after the end.
func FuzzResponseOpener(f *testing.F) {
	f.Add([]byte{byte(RecordData), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{byte(RecordFinal), flagFirst})
	f.Fuzz(func(t *testing.T, b []byte) {
		k := mustKey(t)
		env, ro, err := SealRequest(k.Public(), testMeta(), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, rs, err := OpenRequest(k, env, testNow)
		if err != nil {
			t.Fatal(err)
		}
		rec, _ := rs.Seal([]byte("x"))
		if _, _, err := ro.Open(rec); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ro.Open(b); err == nil {
			t.Fatalf("a forged record %x opened", b)
		}
		if _, _, err := ro.Open(rec); err == nil {
			t.Fatal("opener accepted a record after a failure")
		}
	})
}
