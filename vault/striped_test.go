package vault

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/vault/passport"
	"github.com/tonmesh/tonmesh/vault/shard"
)

// Striped elements (over one segment) on a network of seven peers: an
// owner (k=2, n=4), five holders and one holder whose quota takes no
// shard of them. In order:
//
//  1. A 3.5 MiB element is stored striped and read back; a holder that
//     refuses the streamed put at its header (the small quota) is
//     replaced by the next closest peer.
//  2. A holder cut off midway through the put (its connection closed
//     after its first chunks) gets nothing stored; its shard is rebuilt
//     from the others and placed on another peer, and the element reads
//     back intact.
//  3. A put whose context ends, and an upload whose reader fails midway,
//     store nothing, and leave no plaintext in the ring's memory.
//  4. A holder that lost its shard of a striped element is found by the
//     audit, and the shard is rebuilt (from a streamed read) on a free
//     peer.
//  5. With the striped element deleted, the manifest is written as
//     version 2 again.
func TestVaultStriped(t *testing.T) {
	ctx := context.Background()
	cfg := Config{K: 2, N: 4, hedgeScale: 1000}
	ps := peers.Start(t, 7)
	ns := make([]*node, len(ps))
	for i, p := range ps {
		c := cfg
		if i == 2 {
			c.Quota = 64 << 10
		}
		ns[i] = startVault(t, p, c)
	}
	owner, small := ns[1], ns[2]
	scan := passportElement(t, "ST-PLAINTEXT-4410", 3<<20+1<<19)
	step := steps(t)
	readBack := func(t *testing.T) {
		t.Helper()
		reads := owner.v.shardReads.Load()
		got, err := owner.v.Element(ctx, passport.TypePassport)
		if err != nil {
			t.Fatal(err)
		}
		sameElement(t, got, scan)
		if n := owner.v.shardReads.Load() - reads; n != 2 {
			t.Fatalf("a read with every holder up asked %d holders, want k = 2", n)
		}
	}
	// stored is the shards all nodes hold: exactly those of the owner's
	// elements once replaced ones are dropped.
	stored := func() int { return storedShards(ns) }

	step("striped put, holder refusing at the header", func(t *testing.T) {
		// The placement targets are random: add again until the small
		// holder was among the first choices (6 in 7 each time).
		for try := 0; owner.v.openRefused.Load() == 0; try++ {
			if try == 20 {
				t.Fatal("the holder with the small quota was never chosen")
			}
			info, err := owner.v.Add(ctx, scan)
			if err != nil {
				t.Fatal(err)
			}
			if info.K != 2 || info.N != 4 || info.Reachable != 4 {
				t.Fatalf("Add = %+v", info)
			}
		}
		owner.v.mu.Lock()
		e := owner.v.man.element(passport.TypePassport).clone()
		version := owner.v.man.encode()[0]
		owner.v.mu.Unlock()
		l, _ := shard.NewLayout(e.Size, 2, 4, shard.DefaultSegment)
		if e.Segment != shard.DefaultSegment || e.EncSize != l.EncSize() || l.Stripes() != 4 || version != 3 {
			t.Fatalf("element segment %d, encsize %d (%d stripes), manifest version %d; want %d, %d, 4 stripes, version 3",
				e.Segment, e.EncSize, l.Stripes(), version, shard.DefaultSegment, l.EncSize())
		}
		for _, s := range e.Shards {
			if !shard.Provable(s.CID) || s.Answers != nil {
				t.Fatalf("shard %+v: want a BLAKE3 CID and no precomputed answers", s)
			}
		}
		hs := checkHolders(t, owner, passport.TypePassport, 4)
		if peerIDs(hs)[small.Net.ID().String()] != 0 || small.v.HolderStats().Shards != 0 {
			t.Fatalf("the holder over its quota holds a shard: %+v", hs)
		}
		if n := stored(); n != 4 {
			t.Fatalf("%d shards stored in all, want the element's 4", n)
		}
		readBack(t)
	})
	step("holder cut off midway", func(t *testing.T) {
		var (
			once sync.Once
			cut  peer.ID
		)
		rebuilt := owner.v.rebuiltPuts.Load()
		owner.v.cfg.afterChunk = func(h peer.ID, j int) {
			if j == 1 {
				once.Do(func() {
					cut = h
					_ = owner.Net.Host().Network().ClosePeer(h)
				})
			}
		}
		_, err := owner.v.Add(ctx, scan)
		owner.v.cfg.afterChunk = nil
		if err != nil {
			t.Fatal(err)
		}
		if cut == "" {
			t.Fatal("no holder was cut off")
		}
		if n := owner.v.rebuiltPuts.Load() - rebuilt; n != 1 {
			t.Fatalf("%d shards rebuilt after the put, want the cut holder's 1", n)
		}
		hs := checkHolders(t, owner, passport.TypePassport, 4)
		if peerIDs(hs)[cut.String()] != 0 {
			t.Fatalf("the holder cut off midway is named in the manifest: %+v", hs)
		}
		if n := stored(); n != 4 {
			t.Fatalf("%d shards stored in all, want the element's 4 (the cut transfer must store nothing)", n)
		}
		readBack(t)
	})
	step("puts cut short keep nothing", func(t *testing.T) {
		held := stored()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := owner.v.Add(cctx, passportElement(t, "ST-CANCELLED-0301", 3<<20)); err == nil {
			t.Fatal("a put with its context cancelled succeeded")
		}
		// An upload that fails a third of the way in: the segment it was
		// writing holds plaintext, unsealed, when the put stops.
		enc, err := passportElement(t, "ST-CUT-0302", 3<<20).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		cut := len(enc)/3 + 12345
		if cut%shard.DefaultSegment < 64 {
			t.Fatalf("the cut at %d is too close to a segment's start", cut)
		}
		var returned []byte
		owner.v.cfg.ringReturned = func(mem []byte) { returned = bytes.Clone(mem) }
		_, err = owner.v.AddFrom(ctx, passport.TypePassport, io.MultiReader(bytes.NewReader(enc[:cut]), errReader{errors.New("scanner unplugged")}), len(enc))
		owner.v.cfg.ringReturned = nil
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "scanner unplugged") {
			t.Fatalf("an upload cut off: %v, want ErrInvalid with the reader's error", err)
		}
		// The ring went back to the pool cleared: none of the plaintext
		// written before the cut is left in it.
		if returned == nil {
			t.Fatal("the put returned no ring memory")
		}
		if bytes.Contains(returned, enc[cut-64:cut]) {
			t.Fatal("the ring memory of an upload cut off holds its plaintext")
		}
		if n := stored(); n != held {
			t.Fatalf("%d shards stored after puts cut short, %d before", n, held)
		}
		readBack(t)
	})
	step("repair of a striped element", func(t *testing.T) {
		before := checkHolders(t, owner, passport.TypePassport, 4)
		i, x := pickHolder(t, ns, before, owner)
		if err := x.v.holder.CorruptForTest(cid.MustParse(before[i].CID)); err != nil {
			t.Fatal(err)
		}
		// A read opens the stripes as their chunks arrive: the one with the
		// flipped byte (the middle of the shard) fails, a spare is asked,
		// and that stripe opens from k of the k+1 chunks; the others open
		// from those k at the first try.
		reads, reopened := owner.v.shardReads.Load(), owner.v.reopened.Load()
		got, err := owner.v.Element(ctx, passport.TypePassport)
		if err != nil {
			t.Fatal(err)
		}
		sameElement(t, got, scan)
		if n, r := owner.v.shardReads.Load()-reads, owner.v.reopened.Load()-reopened; i >= 2 || n != 3 || r != 1 {
			t.Fatalf("a read with data shard %d corrupt asked %d holders and opened %d stripes again; want k+1 = 3, and 1 of 4 stripes", i, n, r)
		}
		rep, err := owner.v.Audit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if item := itemOf(t, rep, passport.TypePassport); item.Lost != 1 || item.Repaired != 1 || item.Error != "" {
			t.Fatalf("audit after shard %d was lost: %+v", i, item)
		}
		after := checkHolders(t, owner, passport.TypePassport, 4)
		if after[i].Peer == x.Net.ID().String() || after[i].CID != before[i].CID {
			t.Fatalf("shard %d: %+v, want the same CID on another peer than %s", i, after[i], x.Net.ID())
		}
		// Read from the rebuilt shard: the others' holders go first.
		for j := range after {
			if j != i {
				owner.v.mu.Lock()
				owner.v.man.element(passport.TypePassport).Shards[j].Status = statusUnreachable
				owner.v.mu.Unlock()
			}
		}
		if got, err = owner.v.Element(ctx, passport.TypePassport); err != nil {
			t.Fatal(err)
		}
		sameElement(t, got, scan)
	})
	step("manifest version 2 without striped elements", func(t *testing.T) {
		if _, err := owner.v.Add(ctx, personalDetails("Ana")); err != nil {
			t.Fatal(err)
		}
		if err := owner.v.Delete(ctx, passport.TypePassport); err != nil {
			t.Fatal(err)
		}
		owner.v.mu.Lock()
		m := owner.v.man.clone()
		owner.v.mu.Unlock()
		if b := m.encode(); b[0] != 2 || len(m.Elements) != 1 || m.Elements[0].Segment != 0 {
			t.Fatalf("manifest version %d with %d elements, want version 2 with the one-piece personal details", b[0], len(m.Elements))
		}
		got, err := owner.v.Element(ctx, passport.TypePersonalDetails)
		if err != nil || got.Data["first_name"] != "Ana" {
			t.Fatalf("personal details read back: %+v, %v", got, err)
		}
	})
}

// The largest element a passport may carry fits the shards of the default
// k, and the API takes it as JSON; k = 2 cannot take it.
func TestLargestElementFits(t *testing.T) {
	var cfg Config
	cfg.setDefaults()
	l, err := shard.NewLayout(passport.MaxElementSize, cfg.K, cfg.N, shard.DefaultSegment)
	if err != nil {
		t.Fatalf("default k=%d n=%d: %v", cfg.K, cfg.N, err)
	}
	if l.ShardLen() > shard.MaxShardSize || MaxElementBody < passport.MaxElementSize*4/3 {
		t.Fatalf("shards of %d bytes (limit %d), API body limit %d", l.ShardLen(), shard.MaxShardSize, MaxElementBody)
	}
	if _, err := shard.NewLayout(passport.MaxElementSize, 2, 3, shard.DefaultSegment); err == nil {
		t.Fatal("k=2 took the largest element in shards over MaxShardSize")
	}
}
