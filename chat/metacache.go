package chat

import (
	"bytes"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
)

// metaCache keeps the last decoded metadata of recently used conversations
// beside the stored bytes it was decoded from, so that a message does not
// decode its conversation's JSON again when it has not changed.
//
// It is no authority and needs no invalidation: loadMeta still reads the
// stored bytes and takes the decoded copy only when they are equal to the
// ones it was decoded from; anything else is decoded afresh. Callers get a
// copy they may change. When it is full an arbitrary entry is dropped.
type metaCache struct {
	mu sync.Mutex
	m  map[peer.ID]metaEntry
}

type metaEntry struct {
	raw  []byte
	meta convMeta
}

// get returns the metadata decoded from raw, if raw is what p's entry was
// decoded from.
func (c *metaCache) get(p peer.ID, raw []byte) (*convMeta, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[p]
	if !ok || !bytes.Equal(e.raw, raw) {
		return nil, false
	}
	m := e.meta
	return &m, true
}

// set records that raw (which the caller no longer changes) decodes to
// meta: raw is meta's storedJSON, or what meta was decoded from. (Decoding
// raw gives meta's values; LastAt may come back in another Location for
// the same instant, which encodes the same.)
func (c *metaCache) set(p peer.ID, raw []byte, meta *convMeta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[peer.ID]metaEntry)
	}
	if _, ok := c.m[p]; !ok && len(c.m) >= maxCachedPeers {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	e := metaEntry{raw: raw, meta: *meta}
	e.meta.LastAt = e.meta.LastAt.Round(0) // no monotonic reading, as decoded
	c.m[p] = e
}
