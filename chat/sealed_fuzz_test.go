package chat

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func FuzzDecodeSealedItem(f *testing.F) {
	_, raw, _ := testEnvelope(f)
	rpriv, rcpt := testKey(f)
	item, err := sealItem(rcpt, MsgID{1}, raw)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(item)
	f.Add([]byte{sealedVersion})
	f.Add(make([]byte, sealedHeader+buckets[0]+sealedSlack+16))
	key, err := sealPrivateKey(edKey(f, rpriv))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := decodeSealedItem(b)
		if err != nil {
			return
		}
		if !bytes.Equal(it.header, b[:sealedHeader]) || len(it.Sealed) != len(b)-sealedHeader {
			t.Fatal("decoded sealed item does not cover its bytes")
		}
		if env, err := openSealed(key, it); err == nil {
			_, _ = decodeEnvelope(env)
		}
	})
}

func FuzzDecodeSealedMailboxReq(f *testing.F) {
	priv, holder := testKey(f)
	_, rcpt := testKey(f)
	id, _ := newMsgID()
	e := &envelope{Sender: holder, Recipient: rcpt, ID: id, Sent: time.UnixMilli(time.Now().UnixMilli()), Body: []byte("x")}
	raw, _ := e.seal(priv)
	s := &Service{sign: edKey(f, priv)}
	s.cfg.setDefaults()
	d, err := s.newDeposit(e, raw)
	if err != nil {
		f.Fatal(err)
	}
	st, _ := mintStamp(context.Background(), holder, d.digest, 0, time.Now())
	f.Add((&mailboxReq{Op: opSealedPut, Mailbox: d.mk, Expires: d.expires, DeleteHash: d.delHash[:], Stamp: st, Item: d.item}).body())
	f.Add((&mailboxReq{Op: opSealedDelete, Mailbox: d.mk, Secrets: [][32]byte{{1}, {2}}}).body())
	f.Add([]byte{mailboxVersion, opSealedPut})
	f.Add([]byte{mailboxVersion, opSealedDelete})
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := decodeMailboxReq(b)
		if err != nil || (q.Op != opSealedPut && q.Op != opSealedDelete) {
			return
		}
		if !bytes.Equal(q.body(), b) {
			t.Fatal("sealed request re-encodes differently")
		}
		if q.Op == opSealedPut {
			_ = q.Stamp.work(holder, depositDigest(q.Mailbox, q.Expires, q.DeleteHash, q.Item))
		}
	})
}

func FuzzDecodeSealedHeldItem(f *testing.F) {
	f.Add((&heldItem{Expires: time.Now(), DeleteHash: make([]byte, 32), Envelope: []byte{sealedVersion}}).encode())
	f.Add([]byte{heldSealedTag})
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := decodeHeldItem(b)
		if err != nil || !it.sealed() {
			return
		}
		if !bytes.Equal(it.encode(), b) {
			t.Fatal("sealed held item re-encodes differently")
		}
	})
}

func FuzzDecodeMoreWorkResponse(f *testing.F) {
	f.Add(encodeMoreWorkResponse(17, "more"), byte(opSealedPut))
	f.Add(encodeDeleteResponse(2), byte(opSealedDelete))
	f.Fuzz(func(t *testing.T, b []byte, op byte) {
		r, err := decodeResponse(b, op)
		if err == nil && r.Status == statusMoreWork && !bytes.Equal(encodeMoreWorkResponse(r.Bits, r.Reason), b) {
			t.Fatal("more-work response re-encodes differently")
		}
	})
}
