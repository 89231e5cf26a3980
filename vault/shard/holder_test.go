package shard

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/p2p"
)

func testPutGetChallengeDelete(t *testing.T, first *peers.Peer) {
	ps := cluster(t, first, 3)
	h := startHolder(t, ps[1], HolderConfig{})
	holder := ps[1].Net.ID()
	ctx := testCtx(t)

	data := randomBytes(t, 200_000)
	pub, priv := deleteKey(t)
	r, err := Put(ctx, ps[0].Net, holder, data, pub)
	if err != nil {
		t.Fatal(err)
	}
	c := CIDOf(data)
	if !r.CID.Equals(c) || r.Size != len(data) || r.Holder != holder {
		t.Fatalf("receipt %+v", r)
	}
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	wantStats(t, h, 1, int64(len(data)))

	// Any node may fetch and challenge.
	for _, p := range []*peers.Peer{ps[0], ps[2]} {
		got, err := Get(ctx, p.Net, holder, c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatal("Get returned other bytes")
		}
		var nonce [32]byte
		rand.Read(nonce[:])
		ans, err := Challenge(ctx, p.Net, holder, c, nonce)
		if err != nil {
			t.Fatal(err)
		}
		if ans != ChallengeAnswer(nonce, data) {
			t.Fatal("challenge answer does not match the data")
		}
		if err := Prove(ctx, p.Net, holder, c, len(data), nonce); err != nil {
			t.Fatalf("Prove: %v", err)
		}
	}
	if err := Prove(ctx, ps[0].Net, holder, c, len(data)+1, [32]byte{4}); !errors.Is(err, ErrBadProof) {
		t.Fatalf("Prove with the wrong size: %v, want ErrBadProof", err)
	}

	// A request the holder cannot decode is refused, with the reason.
	s := openStream(t, ps[0], holder)
	if err := p2p.WriteFrame(s, []byte{wireVersion, 9}); err != nil {
		t.Fatal(err)
	}
	resp, err := readResponse(s, opGet)
	_ = s.Close()
	if err != nil || !errors.Is(resp.err(), ErrRefused) || !strings.Contains(resp.Reason, "cid") {
		t.Fatalf("malformed request answered %+v, %v", resp, err)
	}

	if err := Delete(ctx, ps[0].Net, holder, c, priv); err != nil {
		t.Fatal(err)
	}
	wantStats(t, h, 0, 0)
	wantGone(t, ps[2], h, c)
	if _, err := Challenge(ctx, ps[0].Net, holder, c, [32]byte{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Challenge after delete: %v", err)
	}
	if err := Prove(ctx, ps[0].Net, holder, c, len(data), [32]byte{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Prove after delete: %v", err)
	}
	if err := Delete(ctx, ps[0].Net, holder, c, priv); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
}

func testPutIdempotent(t *testing.T, first *peers.Peer) {
	ps := cluster(t, first, 2)
	h := startHolder(t, ps[1], HolderConfig{})
	holder, ctx := ps[1].Net.ID(), testCtx(t)
	data := randomBytes(t, 5000)
	c := CIDOf(data)
	pub1, priv1 := deleteKey(t)
	pub2, priv2 := deleteKey(t)

	for range 2 {
		if _, err := Put(ctx, ps[0].Net, holder, data, pub1); err != nil {
			t.Fatal(err)
		}
	}
	wantStats(t, h, 1, 5000)
	// Another delete key joins the first, without counting the shard twice.
	if _, err := Put(ctx, ps[0].Net, holder, data, pub2); err != nil {
		t.Fatal(err)
	}
	wantStats(t, h, 1, 5000)
	m, err := h.store.meta(c)
	if err != nil || len(m.Keys) != 2 {
		t.Fatalf("meta %+v, %v: want two delete keys", m, err)
	}
	if err := Delete(ctx, ps[0].Net, holder, c, priv2); err != nil {
		t.Fatal(err)
	}
	wantStats(t, h, 0, 0)
	if err := Delete(ctx, ps[0].Net, holder, c, priv1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete with the first key after the shard went: %v", err)
	}
}

func testQuotaAndOversizeStoreNothing(t *testing.T, first *peers.Peer) {
	ps := cluster(t, first, 2)
	h := startHolder(t, ps[1], HolderConfig{Quota: 3000, MaxShard: 2000})
	holder, ctx := ps[1].Net.ID(), testCtx(t)
	pub, _ := deleteKey(t)

	big := randomBytes(t, 2001)
	_, err := Put(ctx, ps[0].Net, holder, big, pub)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "limit of 2000 bytes") {
		t.Fatalf("oversize put: %v", err)
	}
	wantStats(t, h, 0, 0)
	wantGone(t, ps[0], h, CIDOf(big))

	if _, err := Put(ctx, ps[0].Net, holder, randomBytes(t, 1500), pub); err != nil {
		t.Fatal(err)
	}
	over := randomBytes(t, 1501)
	_, err = Put(ctx, ps[0].Net, holder, over, pub)
	if !errors.Is(err, ErrQuota) || !strings.Contains(err.Error(), "3000-byte quota") {
		t.Fatalf("over-quota put: %v", err)
	}
	wantStats(t, h, 1, 1500)
	wantGone(t, ps[0], h, CIDOf(over))
	if h.reserved != 0 {
		t.Fatalf("%d bytes still reserved", h.reserved)
	}
	// Exactly what is left still fits.
	if _, err := Put(ctx, ps[0].Net, holder, randomBytes(t, 1500), pub); err != nil {
		t.Fatal(err)
	}
	wantStats(t, h, 2, 3000)

	// The protocol's own limit is enforced by the client before sending.
	if _, err := Put(ctx, ps[0].Net, holder, make([]byte, MaxShardSize+1), pub); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("put over MaxShardSize: %v", err)
	}
}

func testDeleteNeedsTheDeleteKey(t *testing.T, first *peers.Peer) {
	ps := cluster(t, first, 3)
	h := startHolder(t, ps[1], HolderConfig{})
	h2 := startHolder(t, ps[2], HolderConfig{})
	holder, ctx := ps[1].Net.ID(), testCtx(t)
	data := randomBytes(t, 3000)
	c := CIDOf(data)
	pub, priv := deleteKey(t)
	_, stranger := deleteKey(t)
	if _, err := Put(ctx, ps[0].Net, holder, data, pub); err != nil {
		t.Fatal(err)
	}
	if _, err := Put(ctx, ps[0].Net, ps[2].Net.ID(), data, pub); err != nil {
		t.Fatal(err)
	}

	err := Delete(ctx, ps[0].Net, holder, c, stranger)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "delete signature") {
		t.Fatalf("delete signed by another key: %v", err)
	}
	wantStats(t, h, 1, 3000)

	// A delete signed for one holder does not work on another.
	at := nowMilli()
	q := &request{Op: opDelete, CID: c, At: at, Sig: signDelete(priv, c, holder, at)}
	if r := h2.delete(q); r.Status != statusRefused {
		t.Fatalf("delete signed for %s accepted by %s: %+v", holder, h2.self, r)
	}
	// A delete signed too long ago is refused.
	old := at.Add(-maxDeleteSkew - 1e9)
	q = &request{Op: opDelete, CID: c, At: old, Sig: signDelete(priv, c, holder, old)}
	if r := h.delete(q); r.Status != statusRefused || !strings.Contains(r.Reason, "check your clock") {
		t.Fatalf("stale delete: %+v", r)
	}
	wantStats(t, h, 1, 3000)

	if err := Delete(ctx, ps[0].Net, holder, c, priv); err != nil {
		t.Fatal(err)
	}
	wantStats(t, h, 0, 0)
	wantStats(t, h2, 1, 3000)
}

func testCorruptedShardIsDropped(t *testing.T, first *peers.Peer) {
	ps := cluster(t, first, 2)
	h := startHolder(t, ps[1], HolderConfig{})
	holder, ctx := ps[1].Net.ID(), testCtx(t)
	pub, _ := deleteKey(t)
	a, b := randomBytes(t, 4000), randomBytes(t, 6000)
	for _, d := range [][]byte{a, b} {
		if _, err := Put(ctx, ps[0].Net, holder, d, pub); err != nil {
			t.Fatal(err)
		}
		if err := h.CorruptForTest(CIDOf(d)); err != nil {
			t.Fatal(err)
		}
	}
	wantStats(t, h, 2, 10000)

	_, err := Get(ctx, ps[0].Net, holder, CIDOf(a))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "corrupted") {
		t.Fatalf("Get of a corrupted shard: %v", err)
	}
	wantStats(t, h, 1, 6000)
	if _, err := Challenge(ctx, ps[0].Net, holder, CIDOf(b), [32]byte{1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Challenge of a corrupted shard: %v", err)
	}
	wantStats(t, h, 0, 0)

	// The owner puts the rebuilt shard back.
	if _, err := Put(ctx, ps[0].Net, holder, a, pub); err != nil {
		t.Fatal(err)
	}
	if got, err := Get(ctx, ps[0].Net, holder, CIDOf(a)); err != nil || !bytes.Equal(got, a) {
		t.Fatalf("Get after re-put: %v", err)
	}
	// A repeated put of a shard corrupted since takes the data again.
	if err := h.CorruptForTest(CIDOf(a)); err != nil {
		t.Fatal(err)
	}
	if _, err := Put(ctx, ps[0].Net, holder, a, pub); err != nil {
		t.Fatal(err)
	}
	if got, err := Get(ctx, ps[0].Net, holder, CIDOf(a)); err != nil || !bytes.Equal(got, a) {
		t.Fatalf("Get after a put over a corrupted copy: %v", err)
	}
	wantStats(t, h, 1, 4000)
}

func testPersistAcrossRestart(t *testing.T, first *peers.Peer) {
	ps := cluster(t, first, 2)
	h := startHolder(t, ps[1], HolderConfig{})
	holder, ctx := ps[1].Net.ID(), testCtx(t)
	pub, priv := deleteKey(t)
	data := randomBytes(t, 100_000)
	if _, err := Put(ctx, ps[0].Net, holder, data, pub); err != nil {
		t.Fatal(err)
	}
	h.Stop()
	ps[1].Restart(t)
	h = startHolder(t, ps[1], HolderConfig{})
	wantStats(t, h, 1, 100_000)

	got, err := Get(ctx, ps[0].Net, holder, CIDOf(data))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after restart: %v", err)
	}
	if err := Delete(ctx, ps[0].Net, holder, CIDOf(data), priv); err != nil {
		t.Fatal(err)
	}
	wantStats(t, h, 0, 0)
}

func testElementAcrossHolders(t *testing.T, first *peers.Peer) {
	ps := cluster(t, first, 4)
	var holders []*Holder
	for _, p := range ps[1:] {
		holders = append(holders, startHolder(t, p, HolderConfig{}))
	}
	ctx := testCtx(t)
	plain := randomBytes(t, 300_000)
	e, err := Encode(plain, 4, 6)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := deleteKey(t)
	for i, s := range e.Shards {
		if _, err := Put(ctx, ps[0].Net, holders[i%3].self, s, pub); err != nil {
			t.Fatal(err)
		}
	}
	// Holder 0 (shards 0 and 3) goes away; the other four shards restore it.
	holders[0].Stop()
	got := make([][]byte, e.N)
	for i, c := range e.CIDs {
		if i%3 == 0 {
			continue
		}
		if got[i], err = Get(ctx, ps[0].Net, holders[i%3].self, c); err != nil {
			t.Fatal(err)
		}
	}
	out, err := Decode(e.Key, e.Size, e.K, e.N, got)
	if err != nil || !bytes.Equal(out, plain) {
		t.Fatalf("decode from four holders' shards: %v", err)
	}
}

// TestHolder runs the holder's cases on one network; each case joins the
// peers it needs.
func TestHolder(t *testing.T) {
	first := peers.Start(t, 1)[0]
	for name, fn := range map[string]func(*testing.T, *peers.Peer){
		"PutGetChallengeDelete":        testPutGetChallengeDelete,
		"PutIdempotent":                testPutIdempotent,
		"QuotaAndOversizeStoreNothing": testQuotaAndOversizeStoreNothing,
		"DeleteNeedsTheDeleteKey":      testDeleteNeedsTheDeleteKey,
		"CorruptedShardIsDropped":      testCorruptedShardIsDropped,
		"PersistAcrossRestart":         testPersistAcrossRestart,
		"ElementAcrossHolders":         testElementAcrossHolders,
		"CutTransferStoresNothing":     testCutTransferStoresNothing,
		"MaxSizeShard":                 testMaxSizeShard,
		"StopAbortsTransfers":          testStopAbortsTransfers,
		"ConcurrentPuts":               testConcurrentPuts,
		"FileShards":                   testFileShards,
		"OldShardsStayReadable":        testOldShardsStayReadable,
		"StreamedPutGet":               testStreamedPutGet,
		"StreamedPutCutStoresNothing":  testStreamedPutCutStoresNothing,
		"StreamedPutRefusedEarly":      testStreamedPutRefusedEarly,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, first)
		})
	}
}

// testMaxSizeShard stores a shard of the holder's largest size (set to
// 16 MiB here: the protocol's MaxShardSize is 128 MiB) and reads it back.
func testMaxSizeShard(t *testing.T, first *peers.Peer) {
	const largest = 16 << 20
	h := startHolder(t, peers.Join(t, first, nil), HolderConfig{MaxShard: largest})
	data := randomBytes(t, largest)
	pub, _ := deleteKey(t)
	ctx := testCtx(t)
	if _, err := Put(ctx, first.Net, h.self, data, pub); err != nil {
		t.Fatal(err)
	}
	got, err := Get(ctx, first.Net, h.self, CIDOf(data))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get of a %d-byte shard: %v", len(data), err)
	}
	wantStats(t, h, 1, largest)
	if _, err := Put(ctx, first.Net, h.self, randomBytes(t, largest+1), pub); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("put of %d bytes on a holder that takes %d: %v, want ErrTooLarge", largest+1, largest, err)
	}
}

// testStopAbortsTransfers stops a holder while a put is half sent.
func testStopAbortsTransfers(t *testing.T, first *peers.Peer) {
	h := startHolder(t, peers.Join(t, first, nil), HolderConfig{})
	data := randomBytes(t, 1<<20)
	pub, _ := deleteKey(t)
	s := openStream(t, first, h.self)
	r, err := roundTrip(s, &request{Op: opPut, CID: CIDOf(data), Size: len(data), DeleteKey: pub})
	if err != nil || r.Status != statusContinue {
		t.Fatalf("put header: %+v, %v", r, err)
	}
	writeHalf(t, s, data)
	h.Stop() // returns once the handler has
	wantStats(t, h, 0, 0)
	if h.reserved != 0 {
		t.Fatalf("%d bytes still reserved", h.reserved)
	}
	if _, err := Put(testCtx(t), first.Net, h.self, data, pub); err == nil {
		t.Fatal("a stopped holder took a shard")
	}
}

// testConcurrentPuts checks the quota and the counters under concurrent
// puts: the same shard is counted once, and distinct shards never overrun
// the quota.
func testConcurrentPuts(t *testing.T, first *peers.Peer) {
	h := startHolder(t, peers.Join(t, first, nil), HolderConfig{Quota: 10_000})
	ctx := testCtx(t)
	pub, _ := deleteKey(t)
	same := randomBytes(t, 2000)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = Put(ctx, first.Net, h.self, same, pub) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	wantStats(t, h, 1, 2000)

	for i := range errs {
		data := randomBytes(t, 2000)
		wg.Go(func() { _, errs[i] = Put(ctx, first.Net, h.self, data, pub) })
	}
	wg.Wait()
	stored := 0
	for _, err := range errs {
		switch {
		case err == nil:
			stored++
		case !errors.Is(err, ErrQuota):
			t.Fatal(err)
		}
	}
	if stored != 4 {
		t.Fatalf("%d of 8 concurrent puts stored, want the 4 that fit", stored)
	}
	wantStats(t, h, 5, 10_000)
}
