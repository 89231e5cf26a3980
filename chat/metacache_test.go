package chat

import (
	"encoding/json"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
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
