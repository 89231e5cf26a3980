package chat

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// testGroupState signs a small state with a fresh admin key.
func testGroupState(t testing.TB) (*groupState, []byte) {
	t.Helper()
	priv, admin := testKey(t)
	_, member := testKey(t)
	st := &groupState{Group: GroupID{7}, Epoch: 3, Name: "g", Timer: time.Hour,
		Admins: []peer.ID{admin}, Members: sortPeers([]peer.ID{admin, member}), Signer: admin}
	raw, err := st.sign(priv)
	if err != nil {
		t.Fatal(err)
	}
	return st, raw
}

// testGroupMessage seals one group message with a fresh chain; it returns
// the receiver's copy of the chain too.
func testGroupMessage(t testing.TB) (*envelope, *groupBody, *senderKey) {
	t.Helper()
	own, err := newOwnSenderKey()
	if err != nil {
		t.Fatal(err)
	}
	recv := &senderKey{Chain: own.Start, Pub: own.Pub}
	_, sender := testKey(t)
	id, _ := newMsgID()
	env := &envelope{Group: true, Sender: sender, ID: id, Sent: time.UnixMilli(time.Now().UnixMilli()), TTL: time.Minute}
	plain, _ := content{Kind: kindText, Text: "to the group"}.encode()
	body := sealGroup(own, env, GroupID{9}, 2, plain)
	env.Body = body.encode()
	return env, body, recv
}

func FuzzDecodeGroupState(f *testing.F) {
	_, raw := testGroupState(f)
	f.Add(raw)
	f.Add([]byte{groupWireVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeGroupState(b)
		if err != nil {
			return
		}
		if !bytes.Equal(st.encode(), b) {
			t.Fatal("decoded group state re-encodes differently")
		}
		_ = st.verify()
		_ = validTransition(st, st)
	})
}

func FuzzDecodeGroupCtl(f *testing.F) {
	_, raw := testGroupState(f)
	f.Add((&groupCtl{Type: ctlState, State: raw}).encode())
	f.Add((&groupCtl{Type: ctlSenderKey, Group: GroupID{1}, Epoch: 1, Pub: make([]byte, 32)}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeGroupCtl(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.encode(), b) {
			t.Fatal("decoded group control re-encodes differently")
		}
	})
}

func FuzzDecodeGroupBody(f *testing.F) {
	env, _, _ := testGroupMessage(f)
	f.Add(env.Body)
	f.Fuzz(func(t *testing.T, b []byte) {
		body, err := decodeGroupBody(b)
		if err != nil {
			return
		}
		if !bytes.Equal(body.encode(), b) {
			t.Fatal("decoded group message re-encodes differently")
		}
		e, _, recv := testGroupMessage(t)
		if _, err := openGroup(recv, e, body); err == nil && !bytes.Equal(b, e.Body) {
			t.Fatal("a foreign body opened")
		}
	})
}

func TestSenderKeyChain(t *testing.T) {
	own, err := newOwnSenderKey()
	if err != nil {
		t.Fatal(err)
	}
	recv := &senderKey{Chain: own.Start, Pub: own.Pub}
	_, sender := testKey(t)
	var envs []*envelope
	var bodies []*groupBody
	for i := range 5 {
		id, _ := newMsgID()
		env := &envelope{Group: true, Sender: sender, ID: id, Sent: time.UnixMilli(1000 + int64(i))}
		plain, _ := content{Kind: kindText, Text: "m"}.encode()
		b := sealGroup(own, env, GroupID{1}, 1, plain)
		envs, bodies = append(envs, env), append(bodies, b)
	}
	// Out of order: 3 first, then 0, then 3 again (a replay).
	for _, i := range []int{3, 0} {
		if _, err := openGroup(recv, envs[i], bodies[i]); err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
	}
	if _, err := openGroup(recv, envs[3], bodies[3]); !errors.Is(err, errGroupDuplicate) {
		t.Fatalf("replay: %v, want a duplicate", err)
	}
	// A body moved to another message ID or tampered with fails, and leaves
	// the chain as it was.
	moved := *envs[1]
	moved.ID[0] ^= 1
	if _, err := openGroup(recv, &moved, bodies[1]); err == nil {
		t.Fatal("a body moved to another message opened")
	}
	bad := *bodies[1]
	bad.Sealed = bytes.Clone(bad.Sealed)
	bad.Sealed[0] ^= 1
	if _, err := openGroup(recv, envs[1], &bad); err == nil {
		t.Fatal("a tampered body opened")
	}
	if _, err := openGroup(recv, envs[1], bodies[1]); err != nil {
		t.Fatalf("open 1 after failures: %v", err)
	}
	// Only the chain's signing key signs: a member who knows the chain key
	// cannot pass its own message off as the sender's.
	other, _ := newOwnSenderKey()
	other.Chain = recv.Chain
	forged := sealGroup(other, envs[4], GroupID{1}, 1, make([]byte, 256))
	forged.Index = 4
	if _, err := openGroup(recv, envs[4], forged); !errors.Is(err, errBadSignature) {
		t.Fatalf("forged by another key: %v", err)
	}
	far := &groupBody{Group: GroupID{1}, Epoch: 1, Index: maxGroupSkip + 10}
	if _, err := recv.clone().keyFor(far.Index); err == nil {
		t.Fatal("an index far ahead was accepted")
	}
}
