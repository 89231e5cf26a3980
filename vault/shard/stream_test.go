package shard

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strconv"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/p2p"
)

// testStreamedPutGet streams shards kept in the store and in files to a
// holder piece by piece and reads them back the same way; a second
// streamed put of the same bytes and key stores nothing more.
func testStreamedPutGet(t *testing.T, first *peers.Peer) {
	h := startHolder(t, peers.Join(t, first, nil), HolderConfig{})
	ctx := testCtx(t)
	pub, _ := deleteKey(t)
	var used int64
	for n, size := range []int{100, inlineMax + 1, 3*copyBuf + 5} {
		data := randomBytes(t, size)
		for range 2 {
			w, err := OpenPut(ctx, first.Net, h.self, size)
			if err != nil {
				t.Fatal(err)
			}
			for off := 0; off < size; off += 7777 {
				if _, err := w.Write(data[off:min(off+7777, size)]); err != nil {
					t.Fatal(err)
				}
			}
			c, rcpt, err := w.Finish(func(cid.Cid) ed25519.PublicKey { return pub })
			if err != nil {
				t.Fatal(err)
			}
			if !c.Equals(CIDOf(data)) || !rcpt.CID.Equals(c) || !Provable(c) {
				t.Fatalf("streamed put of %d bytes named %s, receipt %s; want %s", size, c, rcpt.CID, CIDOf(data))
			}
		}
		used += int64(size)
		wantStats(t, h, n+1, used)
		r, err := OpenGet(ctx, first.Net, h.self, CIDOf(data))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, r.Size())
		for off := 0; off < len(got); off += 5000 {
			if err := r.ReadFull(got[off:min(off+5000, len(got))]); err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
		if !r.Verified() || !bytes.Equal(got, data) {
			t.Fatalf("streamed get of %d bytes: verified %v, equal %v", size, r.Verified(), bytes.Equal(got, data))
		}
	}
}

// testStreamedPutCutStoresNothing ends streamed puts midway (the owner
// aborts, or sends a trailer that does not name the bytes): nothing is
// stored, reserved or left on disk.
func testStreamedPutCutStoresNothing(t *testing.T, first *peers.Peer) {
	for _, size := range []int{inlineMax, inlineMax + 1} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			h := startHolder(t, peers.Join(t, first, nil), HolderConfig{})
			ctx := testCtx(t)
			pub, _ := deleteKey(t)
			data := randomBytes(t, size)

			w, err := OpenPut(ctx, first.Net, h.self, size)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data[:size/2]); err != nil {
				t.Fatal(err)
			}
			w.Abort()
			if _, _, err := w.Finish(func(cid.Cid) ed25519.PublicKey { return pub }); err == nil {
				t.Fatal("Finish after Abort succeeded")
			}
			// The rest skipped, the put still names the whole shard.
			w.Skip(data[size/2 : size-1])
			if c := w.CID(); c.Defined() {
				t.Fatalf("CID of a shard one byte short: %s", c)
			}
			w.Skip(data[size-1:])
			if c := w.CID(); !c.Equals(CIDOf(data)) {
				t.Fatalf("CID of the shard written half, skipped the rest: %s, want %s", c, CIDOf(data))
			}
			h.active.Wait()
			wantStats(t, h, 0, 0)
			if h.reserved != 0 {
				t.Fatalf("%d bytes still reserved", h.reserved)
			}
			wantFiles(t, h)

			// By hand: all the data, then a trailer naming other bytes.
			s := openStream(t, first, h.self)
			r, err := roundTrip(s, &request{Op: opPutStream, Size: size})
			if err != nil || r.Status != statusContinue {
				t.Fatalf("streamed put header: %v, status %v", err, r)
			}
			if err := p2p.WriteFrame(s, data); err != nil {
				t.Fatal(err)
			}
			if err := p2p.WriteFrame(s, encodeTrailer(CIDOf(data[1:]), pub)); err != nil {
				t.Fatal(err)
			}
			if r, err = readResponse(s, opPutStream); err != nil {
				t.Fatal(err)
			}
			if err := r.err(); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("trailer naming other bytes: %v, want ErrCorrupt", err)
			}
			h.active.Wait()
			wantStats(t, h, 0, 0)
			wantFiles(t, h)
			if h.reserved != 0 {
				t.Fatalf("%d bytes still reserved", h.reserved)
			}
		})
	}
}

// testStreamedPutRefusedEarly: an oversize or over-quota streamed put is
// refused at its header, before any data is made.
func testStreamedPutRefusedEarly(t *testing.T, first *peers.Peer) {
	h := startHolder(t, peers.Join(t, first, nil), HolderConfig{Quota: 1000, MaxShard: 800})
	if _, err := OpenPut(testCtx(t), first.Net, h.self, 900); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize streamed put: %v, want ErrTooLarge", err)
	}
	w, err := OpenPut(testCtx(t), first.Net, h.self, 700)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := OpenPut(testCtx(t), first.Net, h.self, 700); !errors.Is(err, ErrQuota) {
		t.Fatalf("streamed put over the quota (another one in transfer): %v, want ErrQuota", err)
	}
}
