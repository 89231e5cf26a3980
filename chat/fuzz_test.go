package chat

import (
	"bytes"
	"testing"
	"time"
)

func FuzzDecodeEnvelope(f *testing.F) {
	_, raw, _ := testEnvelope(f)
	f.Add(raw)
	f.Add([]byte{envelopeVersion})
	if genv, _, _ := testGroupMessage(f); genv != nil {
		_, recipient := testKey(f)
		genv.Recipient = recipient
		priv, sender := testKey(f)
		genv.Sender = sender
		graw, _ := genv.seal(priv)
		f.Add(graw)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEnvelope(b)
		if err != nil {
			return
		}
		if !bytes.Equal(e.encode(), b) {
			t.Fatalf("decoded envelope re-encodes differently")
		}
		_ = e.verify(new(peerKeyCache))
		_ = e.checkTimes(time.Now())
	})
}

func FuzzDecodeMailboxReq(f *testing.F) {
	priv, owner := testKey(f)
	fetch, _ := (&mailboxReq{Op: opFetch, Owner: owner, Signer: owner, At: time.Now()}).encodeSigned(priv)
	del, _ := (&mailboxReq{Op: opDelete, Owner: owner, Signer: owner, At: time.Now(), IDs: []MsgID{{1}}}).encodeSigned(priv)
	_, env, _ := testEnvelope(f)
	f.Add(fetch)
	f.Add(del)
	f.Add((&mailboxReq{Op: opPut, Envelope: env}).body())
	f.Add([]byte{mailboxVersion, opDelete})
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := decodeMailboxReq(b)
		if err != nil {
			return
		}
		if q.Op == opPut {
			if !bytes.Equal(q.body(), b) {
				t.Fatal("put re-encodes differently")
			}
			return
		}
		if !bytes.Equal(append(q.body(), q.Sig...), b) {
			t.Fatal("signed request re-encodes differently")
		}
		_ = q.verify(time.Now())
	})
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add(encodeFetchResponse(true, [][]byte{[]byte("x")}), byte(opFetch))
	f.Add(encodeDeleteResponse(3), byte(opDelete))
	f.Add(encodeResponse(statusRejected, "no"), byte(0))
	f.Fuzz(func(t *testing.T, b []byte, op byte) {
		_, _ = decodeResponse(b, op)
	})
}

func FuzzDecodeContent(f *testing.F) {
	c, _ := content{Kind: kindText, Text: "hello"}.encode()
	tm, _ := content{Kind: kindTimer, Timer: time.Hour}.encode()
	gc, _ := content{Kind: kindGroup, Ctl: []byte{groupWireVersion, ctlState, 0}}.encode()
	f.Add(c)
	f.Add(tm)
	f.Add(gc)
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeContent(b)
		if err != nil {
			return
		}
		again, err := got.encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("decoded content re-encodes differently: %v", err)
		}
	})
}

func FuzzDecodeHeldItem(f *testing.F) {
	_, sender := testKey(f)
	f.Add((&heldItem{Expires: time.Now(), Sender: sender, Envelope: []byte("e")}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeHeldItem(b)
	})
}
