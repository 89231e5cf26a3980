package shard

import (
	"encoding/binary"
	"errors"
	"strconv"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/p2p"
)

// testCutTransferStoresNothing starts puts by hand and ends them midway in
// every way a client can: nothing may be stored, left on disk or stay
// reserved, for a shard kept in the store and for one kept in a file.
func testCutTransferStoresNothing(t *testing.T, first *peers.Peer) {
	for _, size := range []int{inlineMax, inlineMax + 1} {
		t.Run(strconv.Itoa(size), func(t *testing.T) { cutTransfers(t, first, size) })
	}
}

func cutTransfers(t *testing.T, first *peers.Peer, size int) {
	data := randomBytes(t, size)
	pub, _ := deleteKey(t)
	h := startHolder(t, peers.Join(t, first, nil), HolderConfig{})
	for _, tc := range []struct {
		name      string
		ownClient bool // the case stops its client
		cut       func(t *testing.T, s network.Stream, client *peers.Peer)
	}{
		{"close half way", false, func(t *testing.T, s network.Stream, _ *peers.Peer) {
			writeHalf(t, s, data)
			if err := s.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			// The holder resets the stream once it has given up.
			if _, err := p2p.ReadFrame(s, maxResponse); err == nil {
				t.Fatal("holder answered a truncated shard")
			}
		}},
		{"reset half way", false, func(t *testing.T, s network.Stream, _ *peers.Peer) {
			writeHalf(t, s, data)
			_ = s.Reset()
		}},
		{"client vanishes half way", true, func(t *testing.T, s network.Stream, client *peers.Peer) {
			writeHalf(t, s, data)
			client.Stop()
		}},
		{"bytes do not match the CID", false, func(t *testing.T, s network.Stream, _ *peers.Peer) {
			other := randomBytes(t, len(data))
			if err := p2p.WriteFrame(s, other); err != nil {
				t.Fatal(err)
			}
			r, err := readResponse(s, opPut)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.err(); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("holder answered %v to bytes that do not match, want ErrCorrupt", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := first
			if tc.ownClient {
				client = peers.Join(t, first, nil)
			}
			s := openStream(t, client, h.self)
			q := &request{Op: opPut, CID: CIDOf(data), Size: len(data), DeleteKey: pub}
			r, err := roundTrip(s, q)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != statusContinue {
				t.Fatalf("holder answered status %d to a new put, want continue", r.Status)
			}
			tc.cut(t, s, client)
			// The handler is running (it asked for the data): once it
			// returns, what it left is final. No other stream is open.
			h.active.Wait()
			wantStats(t, h, 0, 0)
			if h.reserved != 0 {
				t.Fatalf("%d bytes still reserved", h.reserved)
			}
			if _, err := h.store.data(CIDOf(data)); !errors.Is(err, ErrNotFound) {
				t.Fatalf("shard bytes left in the store: %v", err)
			}
			wantFiles(t, h)
		})
	}
	// A whole put still works afterwards.
	if _, err := Put(testCtx(t), first.Net, h.self, data, pub); err != nil {
		t.Fatal(err)
	}
	wantStats(t, h, 1, int64(len(data)))
	if size > inlineMax {
		wantFiles(t, h, CIDOf(data).String())
	} else {
		wantFiles(t, h)
	}
}

// writeHalf sends a frame header for all of data, then half of it.
func writeHalf(t *testing.T, s network.Stream, data []byte) {
	t.Helper()
	hdr := binary.AppendUvarint(nil, uint64(len(data)))
	if _, err := s.Write(append(hdr, data[:len(data)/2]...)); err != nil {
		t.Fatal(err)
	}
}
