package chat

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
)

func edKey(t testing.TB, priv crypto.PrivKey) ed25519.PrivateKey {
	t.Helper()
	raw, err := priv.Raw()
	if err != nil {
		t.Fatal(err)
	}
	return ed25519.PrivateKey(raw)
}

// heldEnvelopes returns the envelopes s holds for rcpt: plain ones as
// stored, sealed ones opened with rcpt's key (those for others are
// skipped).
func heldEnvelopes(t *testing.T, s, rcpt *Service) []*envelope {
	t.Helper()
	priv, err := sealPrivateKey(rcpt.sign)
	if err != nil {
		t.Fatal(err)
	}
	var out []*envelope
	err = s.mbox.Iterate(append([]byte("i/"), mailboxKey(rcpt.self)...), func(_, v []byte) error {
		it, err := decodeHeldItem(bytes.Clone(v))
		if err != nil {
			return err
		}
		raw := it.Envelope
		if it.sealed() {
			sit, err := decodeSealedItem(raw)
			if err != nil {
				return err
			}
			if raw, err = openSealed(priv, sit); err != nil {
				return err
			}
		}
		env, err := decodeEnvelope(raw)
		if err != nil {
			return err
		}
		out = append(out, env)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSealKeysMatch(t *testing.T) {
	for range 20 {
		priv, id := testKey(t)
		pub, err := sealPublicKey(id)
		if err != nil {
			t.Fatal(err)
		}
		x, err := sealPrivateKey(edKey(t, priv))
		if err != nil {
			t.Fatal(err)
		}
		// The X25519 key derived from the peer ID alone is the public half
		// of the one derived from the private peer key.
		if !bytes.Equal(pub.Bytes(), x.PublicKey().Bytes()) {
			t.Fatalf("peer %s: public %x, private's public %x", id, pub.Bytes(), x.PublicKey().Bytes())
		}
	}
}

func TestSealOpen(t *testing.T) {
	_, raw, _ := testEnvelope(t)
	rpriv, rcpt := testKey(t)
	opriv, _ := testKey(t)
	id := MsgID{7}
	item, err := sealItem(rcpt, id, raw)
	if err != nil {
		t.Fatal(err)
	}
	if !validSealedLen(len(item)) || bytes.Contains(item, raw) {
		t.Fatalf("sealed item of %d bytes: not a class, or holds the envelope in clear", len(item))
	}
	sit, err := decodeSealedItem(item)
	if err != nil || sit.ID != id {
		t.Fatalf("decode: %+v, %v", sit, err)
	}
	key, _ := sealPrivateKey(edKey(t, rpriv))
	got, err := openSealed(key, sit)
	if err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("open: %v", err)
	}
	other, _ := sealPrivateKey(edKey(t, opriv))
	if _, err := openSealed(other, sit); err == nil {
		t.Fatal("another key opened the item")
	}
	for _, i := range []int{1, sealedHeader, len(item) - 1} { // ID, ciphertext, tag
		bad := bytes.Clone(item)
		bad[i] ^= 1
		if b, err := decodeSealedItem(bad); err == nil {
			if _, err := openSealed(key, b); err == nil {
				t.Fatalf("tampered byte %d opened", i)
			}
		}
	}
	// Envelopes of different lengths in one content bucket seal to the
	// same length.
	small, _ := sealItem(rcpt, id, raw[:len(raw)-5])
	if len(small) != len(item) {
		t.Fatalf("sealed lengths %d and %d within one class", len(small), len(item))
	}
}

// holderForTest is a holder without a network: its own identity, a fresh
// store, the given limits.
func holderForTest(t *testing.T, lim HolderLimits) *Service {
	t.Helper()
	priv, self := testKey(t)
	s := &Service{cfg: Config{Holder: lim}, self: self, sign: edKey(t, priv)}
	s.cfg.setDefaults()
	s.store = openTestSpace(t, s)
	return s
}

// sealedPut makes a sealed deposit for holder of a fresh item to rcpt
// with bits of work, stamped at.
func sealedPut(t *testing.T, holder peer.ID, rcpt peer.ID, bits int, at time.Time) *mailboxReq {
	t.Helper()
	priv, sender := testKey(t)
	id, _ := newMsgID()
	e := &envelope{Sender: sender, Recipient: rcpt, ID: id, Sent: time.UnixMilli(at.UnixMilli()), Body: make([]byte, 300)}
	raw, err := e.seal(priv)
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{sign: edKey(t, priv), cfg: Config{}}
	s.cfg.setDefaults()
	d, err := s.newDeposit(e, raw)
	if err != nil {
		t.Fatal(err)
	}
	st, err := mintStamp(context.Background(), holder, d.digest, bits, at)
	if err != nil {
		t.Fatal(err)
	}
	return &mailboxReq{Op: opSealedPut, Mailbox: d.mk, Expires: d.expires, DeleteHash: d.delHash[:], Stamp: st, Item: d.item}
}

func putStatus(t *testing.T, s *Service, q *mailboxReq, now time.Time) *response {
	t.Helper()
	// Through the wire codec, as the handler gets it.
	dq, err := decodeMailboxReq(q.body())
	if err != nil {
		t.Fatal(err)
	}
	r, err := decodeResponse(s.holdSealedPut(dq, now), opSealedPut)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSealedDepositWorkReplayQuota(t *testing.T) {
	s := holderForTest(t, HolderLimits{PowBits: 8, MaxItemsPerMailbox: 2})
	_, rcpt := testKey(t)
	_, other := testKey(t)
	now := time.Now()

	// Too little work: refused with the bits wanted, and counted.
	weak := sealedPut(t, s.self, rcpt, 0, now)
	for leadingZeros(weak.Stamp.work(s.self, depositDigest(weak.Mailbox, weak.Expires, weak.DeleteHash, weak.Item))) >= 8 {
		weak.Stamp.Nonce++ // a stamp that happens to have the work is no test
	}
	if r := putStatus(t, s, weak, now); r.Status != statusMoreWork || r.Bits != 8 {
		t.Fatalf("weak stamp: %+v", r)
	}
	// Work for another holder is worth nothing here.
	elsewhere := sealedPut(t, other, rcpt, 16, now)
	if r := putStatus(t, s, elsewhere, now); r.Status != statusMoreWork {
		t.Fatalf("stamp for another holder: %+v", r)
	}
	ok := sealedPut(t, s.self, rcpt, 8, now)
	if r := putStatus(t, s, ok, now); r.Status != statusOK {
		t.Fatalf("good deposit: %+v", r)
	}
	// The same stamp again: a replay, refused and counted, also after a
	// restart (the used stamps are stored).
	if r := putStatus(t, s, ok, now); r.Status != statusRejected {
		t.Fatalf("replayed stamp: %+v", r)
	}
	if err := s.loadHolderUsage(); err != nil {
		t.Fatal(err)
	}
	if r := putStatus(t, s, ok, now); r.Status != statusRejected {
		t.Fatalf("replayed stamp after a restart: %+v", r)
	}
	// The same item with a new stamp is a duplicate, not a second item.
	again := *ok
	st, _ := mintStamp(context.Background(), s.self, depositDigest(ok.Mailbox, ok.Expires, ok.DeleteHash, ok.Item), 8, now.Add(time.Millisecond))
	again.Stamp = st
	if r := putStatus(t, s, &again, now); r.Status != statusDuplicate {
		t.Fatalf("same item, new stamp: %+v", r)
	}
	// A stamp outside the window is refused.
	if r := putStatus(t, s, sealedPut(t, s.self, rcpt, 8, now.Add(-time.Hour)), now); r.Status != statusRejected {
		t.Fatalf("stale stamp: %+v", r)
	}
	// Per-mailbox quota: two items for rcpt, the third refused; another
	// mailbox has its own.
	if r := putStatus(t, s, sealedPut(t, s.self, rcpt, 8, now), now); r.Status != statusOK {
		t.Fatalf("second item: %+v", r)
	}
	if r := putStatus(t, s, sealedPut(t, s.self, rcpt, 8, now), now); r.Status != statusQuota {
		t.Fatalf("third item for one mailbox: %+v", r)
	}
	if r := putStatus(t, s, sealedPut(t, s.self, other, 8, now), now); r.Status != statusOK {
		t.Fatalf("first item for another mailbox: %+v", r)
	}
	// A deposit for the holder's own mailbox is refused.
	if r := putStatus(t, s, sealedPut(t, s.self, s.self, 8, now), now); r.Status != statusRejected {
		t.Fatalf("deposit for the holder itself: %+v", r)
	}
	hs := s.HolderStats()
	want := HolderStats{Items: 3, Mailboxes: 2, Deposits: 3, Duplicates: 1, RefusedWork: 2, RefusedReplay: 2, RefusedStale: 1, RefusedQuota: 1, Rejected: 1}
	hs.Bytes, hs.UsedStamps = 0, 0
	if hs != want {
		t.Fatalf("holder stats %+v, want %+v", hs, want)
	}
	// The used stamps are forgotten once outside the window, with the items.
	if err := s.sweepHeld(now.Add(s.cfg.Holder.MaxAge + time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := heldCount(t, s); n != 0 || len(s.holder.stamps) != 0 || len(s.holder.usage) != 0 || s.holder.total != 0 {
		t.Fatalf("after the sweep: %d held, %d stamps, usage %+v", n, len(s.holder.stamps), s.holder.usage)
	}
}

func TestSealedDeleteBySecret(t *testing.T) {
	s := holderForTest(t, HolderLimits{PowBits: 4})
	spriv, sender := testKey(t)
	_, rcpt := testKey(t)
	id, _ := newMsgID()
	e := &envelope{Sender: sender, Recipient: rcpt, ID: id, Sent: time.UnixMilli(time.Now().UnixMilli()), Body: []byte("x")}
	raw, _ := e.seal(spriv)
	snd := &Service{sign: edKey(t, spriv)}
	snd.cfg.setDefaults()
	d, err := snd.newDeposit(e, raw)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := mintStamp(context.Background(), s.self, d.digest, 4, time.Now())
	q := &mailboxReq{Op: opSealedPut, Mailbox: d.mk, Expires: d.expires, DeleteHash: d.delHash[:], Stamp: st, Item: d.item}
	if r := putStatus(t, s, q, time.Now()); r.Status != statusOK {
		t.Fatal(r)
	}
	opriv, _ := testKey(t)
	wrong := deleteSecret(edKey(t, opriv), rcpt, id)
	if n, err := s.holdSealedDelete(d.mk, [][32]byte{wrong}); err != nil || n != 0 || heldCount(t, s) != 1 {
		t.Fatalf("another's secret deleted %d (%v)", n, err)
	}
	right := deleteSecret(snd.sign, rcpt, id)
	if n, err := s.holdSealedDelete(mailboxKey(sender), [][32]byte{right}); err != nil || n != 0 {
		t.Fatalf("the secret deleted %d in another mailbox (%v)", n, err)
	}
	if n, err := s.holdSealedDelete(d.mk, [][32]byte{right}); err != nil || n != 1 || heldCount(t, s) != 0 {
		t.Fatalf("the sender's secret deleted %d (%v), held %d", n, err, heldCount(t, s))
	}
}

// lockedBuffer is a log sink safe for concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSealedMailbox runs a sender a, a holder b (logging at debug level)
// and an offline recipient c: b keeps no trace of a, c gets the messages,
// and a deletes one of them at b by its secret.
func TestSealedMailbox(t *testing.T) {
	c := peers.Start(t, 3)
	var logs lockedBuffer
	hcfg := testConfig()
	hcfg.Holder.RefusePlain = true
	b, err := New(c[1].Store, c[1].Net, c[1].Identity, hcfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, rc := startChat(t, c[0]), startChat(t, c[2])
	waitFor(t, "c's bundle", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := a.fetchBundle(ctx, rc.self)
		return err == nil
	})
	ctx := context.Background()
	// b knows a as a peer (it fetches its own mailbox from it at start);
	// what is checked is that deposits leave no trace of their sender.
	if _, err := b.FetchMailbox(ctx); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	rc.Stop()
	c[2].Stop()
	var sent []*Message
	for _, text := range []string{"kept for c", "taken back"} {
		m, err := a.Send(ctx, rc.self, text, time.Hour)
		if err != nil || m.Status != StatusMailbox {
			t.Fatalf("send to offline c: %+v, %v", m, err)
		}
		sent = append(sent, m)
	}
	if n := heldCount(t, b); n != 2 {
		t.Fatalf("b holds %d items, want 2", n)
	}
	// The holder cannot tell who deposited: no peer ID of a in its
	// mailbox space, its store files or its logs.
	for _, needle := range [][]byte{[]byte(a.self), []byte(a.self.String())} {
		if err := b.mbox.Iterate(nil, func(k, v []byte) error {
			if bytes.Contains(k, needle) || bytes.Contains(v, needle) {
				t.Errorf("the sender's ID is in the holder's mailbox space")
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if storeContains(t, c[1].Store.Dir(), needle) {
			t.Errorf("the sender's ID %q is in the holder's store files", needle)
		}
	}
	if strings := logs.String(); bytes.Contains([]byte(strings), []byte(a.self.String())) {
		t.Errorf("the holder logged the sender: %s", strings)
	}
	if !bytes.Contains([]byte(logs.String()), []byte("sealed deposit held")) {
		t.Fatal("the holder's log is empty: the scan proves nothing")
	}
	// The holder takes no plain deposit (RefusePlain).
	env := heldEnvelopes(t, b, rc)[0]
	plain := (&mailboxReq{Op: opPut, Envelope: env.encode()}).body()
	if r, err := a.mailboxRequest(ctx, b.self, plain, opPut); err != nil || r.Status != statusRejected {
		t.Fatalf("plain put at a sealed-only holder: %+v, %v", r, err)
	}
	// The sender takes the second message back, naming no one.
	raw, _ := hex.DecodeString(sent[1].ID)
	var id MsgID
	copy(id[:], raw)
	if err := a.deleteAt(ctx, b.self, rc.self, []MsgID{id}); err != nil {
		t.Fatal(err)
	}
	if n := heldCount(t, b); n != 1 || b.HolderStats().SenderDeletes != 1 {
		t.Fatalf("after the sender's delete b holds %d (stats %+v)", n, b.HolderStats())
	}
	c[2].Restart(t)
	back := startChat(t, c[2])
	waitFor(t, "c to fetch its mailbox", func() bool {
		if got := texts(t, back, a.self); len(got) > 0 {
			if !slices.Equal(got, []string{"kept for c"}) {
				t.Fatalf("c got %q", got)
			}
			return true
		}
		_, _ = back.FetchMailbox(ctx)
		return false
	})
	waitFor(t, "the holder to delete the fetched item", func() bool { return heldCount(t, b) == 0 })
}

// TestPlainItemsStillRead: items stored in the plain format (before
// sealing, or by a node that does not seal) are fetched and stored.
func TestPlainItemsStillRead(t *testing.T) {
	c, s := chatCluster(t, 3)
	a, b, rc := s[0], s[1], s[2]
	ctx := context.Background()
	a.cfg.PlainDeposits = true
	rc.Stop()
	c[2].Stop()
	if m, err := a.Send(ctx, rc.self, "plain, as before", 0); err != nil || m.Status != StatusMailbox {
		t.Fatalf("plain deposit: %+v, %v", m, err)
	}
	if hs := b.HolderStats(); hs.PlainPuts != 1 || hs.Deposits != 0 {
		t.Fatalf("holder stats %+v, want one plain deposit", hs)
	}
	a.cfg.PlainDeposits = false
	if _, err := a.Send(ctx, rc.self, "sealed", 0); err != nil {
		t.Fatal(err)
	}
	c[2].Restart(t)
	back := startChat(t, c[2])
	waitFor(t, "c to fetch both items", func() bool {
		if got := texts(t, back, a.self); len(got) == 2 {
			if !slices.Contains(got, "plain, as before") || !slices.Contains(got, "sealed") {
				t.Fatalf("c got %q", got)
			}
			return true
		}
		_, _ = back.FetchMailbox(ctx)
		return false
	})
	waitFor(t, "the holder to delete both", func() bool { return heldCount(t, b) == 0 })
}
