package shard

import (
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startHolder runs a holder on p until the test ends.
func startHolder(t *testing.T, p *peers.Peer, cfg HolderConfig) *Holder {
	t.Helper()
	h, err := NewHolder(p.Store, p.Net, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

func deleteKey(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func wantStats(t *testing.T, h *Holder, shards int, used int64) {
	t.Helper()
	if st := h.Stats(); st.Shards != shards || st.Used != used {
		t.Fatalf("holder stats %+v, want %d shards, %d bytes", st, shards, used)
	}
	n, u, err := h.store.usage()
	if err != nil {
		t.Fatal(err)
	}
	if n != shards || u != used {
		t.Fatalf("holder store has %d shards, %d bytes; want %d, %d", n, u, shards, used)
	}
}

// wantGone checks that c is not held: Get says ErrNotFound.
func wantGone(t *testing.T, p *peers.Peer, h *Holder, c cid.Cid) {
	t.Helper()
	_, err := Get(testCtx(t), p.Net, h.self, c)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of %s: %v, want ErrNotFound", c, err)
	}
}

func nowMilli() time.Time { return time.UnixMilli(time.Now().UnixMilli()) }

func signDelete(priv ed25519.PrivateKey, c cid.Cid, holder peer.ID, at time.Time) []byte {
	return ed25519.Sign(priv, deleteMessage(c, holder, at))
}

// cluster returns first followed by n-1 peers that join it for this
// (sub)test: joining a running network is much faster than starting one.
func cluster(t *testing.T, first *peers.Peer, n int) []*peers.Peer {
	t.Helper()
	ps := []*peers.Peer{first}
	for len(ps) < n {
		ps = append(ps, peers.Join(t, first, nil))
	}
	return ps
}

// openStream opens a raw shard stream from client to holder, for tests that
// speak the protocol by hand.
func openStream(t *testing.T, client *peers.Peer, holder peer.ID) network.Stream {
	t.Helper()
	ctx := testCtx(t)
	if err := findAddrs(ctx, client.Net, holder); err != nil {
		t.Fatal(err)
	}
	s, err := client.Net.Host().NewStream(ctx, holder, Protocol)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Reset() })
	return s
}

// wantFiles checks that the holder's shard directory holds exactly the
// named files (nothing half received, nothing dropped left behind).
func wantFiles(t *testing.T, h *Holder, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(h.store.dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(got)
	slices.Sort(names)
	if !slices.Equal(got, names) {
		t.Fatalf("shard directory holds %q, want %q", got, names)
	}
}
