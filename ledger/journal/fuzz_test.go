package journal

import (
	"bytes"
	"math/big"
	"testing"
	"time"
)

func FuzzUnmarshalRecord(f *testing.F) {
	r := &Record{Seq: 7, Prev: make([]byte, HashSize), Entry: Entry{
		Kind: KindSale, Key: "k", Amount: big.NewInt(-42), Counterparty: "c",
		Payload: []byte(`{"a":1}`), Time: time.Unix(1, 2).UTC(),
	}}
	r.Hash = r.ComputeHash()
	f.Add(MarshalRecord(r))
	r2 := &Record{Seq: 1, Prev: make([]byte, HashSize), Entry: Entry{Kind: KindDeposit, Key: "x", Time: time.Unix(0, 0).UTC()}}
	r2.Hash = r2.ComputeHash()
	f.Add(MarshalRecord(r2))
	f.Add([]byte(recordTag))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := UnmarshalRecord(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes: the encoding is canonical.
		if again := MarshalRecord(r); !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", b, again)
		}
		_ = r.CheckHash()
	})
}

func FuzzUnmarshalProof(f *testing.F) {
	f.Add(MarshalProof(nil))
	f.Add(MarshalProof([][]byte{make([]byte, 32), bytes.Repeat([]byte{1}, 32)}))
	f.Add([]byte{200})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := UnmarshalProof(b)
		if err != nil {
			return
		}
		if !bytes.Equal(MarshalProof(p), b) {
			t.Fatal("proof re-encoding differs")
		}
		VerifyProof(make([]byte, 32), 0, 1<<len(p), p, make([]byte, 32))
	})
}
