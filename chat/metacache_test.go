package chat

import (
	"encoding/json"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
)

func TestMetaCacheFollowsStoredBytes(t *testing.T) {
	var c metaCache
	p := peer.ID("peer")
	enc := func(m *convMeta) []byte {
		v, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	first := &convMeta{Timer: 5, thread: thread{NextSeq: 3, Count: 2}}
	raw := enc(first)
	if _, ok := c.get(p, raw); ok {
		t.Fatal("empty cache returned an entry")
	}
	c.set(p, raw, first)
	got, ok := c.get(p, raw)
	if !ok || *got != *first {
		t.Fatalf("get after set = %+v, %v; want %+v", got, ok, first)
	}
	got.NextSeq = 99 // a copy: the cached entry stays as decoded
	if again, _ := c.get(p, raw); again.NextSeq != 3 {
		t.Fatalf("changing a returned copy changed the cache: next_seq %d", again.NextSeq)
	}
	second := &convMeta{Timer: 5, thread: thread{NextSeq: 4, Count: 3}}
	if _, ok := c.get(p, enc(second)); ok {
		t.Fatal("other stored bytes returned the cached decoding")
	}
	if _, ok := c.get(peer.ID("other"), raw); ok {
		t.Fatal("another peer's lookup returned p's entry")
	}
}

// TestLoadMetaIgnoresUnappliedPut: putMeta tells the cache before its
// batch is applied; a batch that never is leaves loadMeta reading the store.
func TestLoadMetaIgnoresUnappliedPut(t *testing.T) {
	c := peers.Start(t, 2) // a DHT peer to take the prekeys
	s := startChat(t, c[0])
	p := peer.ID("someone")
	s.putMeta(s.space.NewBatch(), p, &convMeta{Timer: 42, thread: thread{NextSeq: 9}}) // never applied
	if m, ok, err := s.loadMeta(p); err != nil || ok || m.Timer != 0 || m.NextSeq != 1 {
		t.Fatalf("loadMeta after an unapplied put = %+v, %v, %v; want a new conversation", m, ok, err)
	}
	applied := s.space.NewBatch()
	s.putMeta(applied, p, &convMeta{Timer: 7, thread: thread{NextSeq: 3}})
	s.putMeta(s.space.NewBatch(), p, &convMeta{Timer: 8, thread: thread{NextSeq: 4}}) // never applied
	if err := applied.Commit(); err != nil {
		t.Fatal(err)
	}
	if m, ok, err := s.loadMeta(p); err != nil || !ok || m.Timer != 7 || m.NextSeq != 3 {
		t.Fatalf("loadMeta = %+v, %v, %v; want the applied timer 7, next_seq 3", m, ok, err)
	}
}
