package shard

import (
	"bytes"
	"crypto/ed25519"
	"testing"
	"time"
)

func FuzzUnmarshalReceipt(f *testing.F) {
	f.Add(testReceipt(f).Marshal())
	f.Add([]byte{receiptVersion})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := UnmarshalReceipt(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Marshal(), b) {
			t.Fatal("decoded receipt re-encodes differently")
		}
		_ = r.Verify()
	})
}

func FuzzDecodeRequest(f *testing.F) {
	c := CIDOf([]byte("shard"))
	pub, priv, _ := ed25519.GenerateKey(nil)
	_, holder := testPeerKey(f)
	at := time.UnixMilli(time.Now().UnixMilli())
	for _, q := range []*request{
		{Op: opPut, CID: c, Size: 5, DeleteKey: pub},
		{Op: opPut, CID: c, Size: MaxShardSize + 1, DeleteKey: pub},
		{Op: opGet, CID: c},
		{Op: opPutStream, Size: 5},
		{Op: opChallenge, CID: c, Nonce: [32]byte{9}},
		{Op: opProve, CID: c, Nonce: [32]byte{9}},
		{Op: opDelete, CID: c, At: at, Sig: ed25519.Sign(priv, deleteMessage(c, holder, at))},
	} {
		f.Add(q.encode())
	}
	f.Add([]byte{wireVersion, opGet})
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := decodeRequest(b)
		if err != nil {
			return
		}
		if !bytes.Equal(q.encode(), b) {
			t.Fatal("decoded request re-encodes differently")
		}
		if q.Op == opPut && (q.Size <= 0 || len(q.DeleteKey) != ed25519.PublicKeySize) {
			t.Fatalf("put with size %d and a %d-byte key accepted", q.Size, len(q.DeleteKey))
		}
		_ = verifyAny([]ed25519.PublicKey{pub}, deleteMessage(q.CID, holder, q.At), q.Sig)
	})
}

func FuzzDecodeResponse(f *testing.F) {
	for _, tc := range []struct {
		op byte
		r  *response
	}{
		{opPut, &response{Status: statusOK, Receipt: testReceipt(f).Marshal()}},
		{opPut, &response{Status: statusContinue}},
		{opPut, &response{Status: statusQuota, Reason: "full"}},
		{opGet, &response{Status: statusNotFound, Reason: "no"}},
		{opChallenge, &response{Status: statusOK, Answer: [32]byte{1}}},
		{opProve, &response{Status: statusOK, Proof: testProof(f)}},
		{opProve, &response{Status: statusNotFound, Reason: "no"}},
		{opDelete, &response{Status: statusRefused, Reason: "bad signature"}},
	} {
		f.Add(tc.op, tc.r.encode(tc.op))
	}
	f.Fuzz(func(t *testing.T, op byte, b []byte) {
		op = op%opProve + 1
		r, err := decodeResponse(b, op)
		if err != nil {
			return
		}
		if !bytes.Equal(r.encode(op), b) {
			t.Fatal("decoded response re-encodes differently")
		}
		if err := r.err(); (err == nil) != (r.Status == statusOK || r.Status == statusContinue) {
			t.Fatalf("status %d gives error %v", r.Status, err)
		}
		if r.Status == statusOK && op == opPut {
			if rc, err := UnmarshalReceipt(r.Receipt); err == nil {
				_ = rc.Verify()
			}
		}
	})
}

// testProof is a valid proof of a small shard.
func testProof(f *testing.F) []byte {
	p, err := makeProof([]byte("a proved shard"), [32]byte{8})
	if err != nil {
		f.Fatal(err)
	}
	return p
}

// FuzzDecodeMeta covers the stored layout, which a damaged disk may alter.
func FuzzDecodeMeta(f *testing.F) {
	pub, _, _ := ed25519.GenerateKey(nil)
	f.Add((&meta{Size: 10, Stored: time.UnixMilli(1e12), Keys: []ed25519.PublicKey{pub}}).encode())
	f.Add((&meta{Size: 1, Stored: time.UnixMilli(1), Keys: []ed25519.PublicKey{pub, pub}}).encode())
	f.Add([]byte{metaVersion})
	f.Add((&meta{Size: 3 << 20, Stored: time.UnixMilli(1e12), Keys: []ed25519.PublicKey{pub}, File: true}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMeta(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.encode(), b) {
			t.Fatal("decoded meta re-encodes differently")
		}
	})
}

func FuzzDecodeTrailer(f *testing.F) {
	pub, _, _ := ed25519.GenerateKey(nil)
	f.Add(encodeTrailer(CIDOf([]byte("shard")), pub))
	f.Add(encodeTrailer(cidSHA256([]byte("shard")), pub))
	f.Add([]byte{1, 0x55})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, key, err := decodeTrailer(b)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeTrailer(c, key), b) || !Provable(c) {
			t.Fatal("decoded trailer re-encodes differently or names no BLAKE3 shard")
		}
	})
}
