package compute

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
)

// maxPeerNames bounds the memo of peer IDs' text forms: past it the memo
// starts again empty (the peers a node talks to at a time are far fewer).
const maxPeerNames = 4096

// peerNames memoises peer IDs' text form (base58 of the multihash). Every
// request writes the worker's and the proxy's into seals, receipts,
// results and journal entries, and encoding one costs far more than a map
// lookup. The zero value is ready to use.
type peerNames struct {
	mu sync.Mutex
	m  map[peer.ID]string
}

// of returns id.String(), from the memo when it has it.
func (n *peerNames) of(id peer.ID) string {
	n.mu.Lock()
	s, ok := n.m[id]
	n.mu.Unlock()
	if ok {
		return s
	}
	s = id.String()
	n.mu.Lock()
	if n.m == nil || len(n.m) >= maxPeerNames {
		n.m = make(map[peer.ID]string)
	}
	n.m[id] = s
	n.mu.Unlock()
	return s
}
