package chat

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/chat/ratchet"
)

// maxCachedPeers bounds the peers whose sessions are kept decoded, and
// maxResumedPeers those remembered as resumed since start (more than
// maxCachedPeers, so that one not cached can always be forgotten).
const (
	maxCachedPeers  = 256
	maxResumedPeers = 16 * maxCachedPeers
)

// sessionCache keeps the decoded sessions of recently used peers, so that a
// message does not decode its sessions from the store (an X25519 scalar
// multiplication per session) before it can be sealed or opened.
//
// The store stays the authority. An entry for p is read, advanced and
// replaced only under s.lockPeer(p), and it is set only once its sessions
// are written to the store (applied: every later read sees them); a failure
// after a session was advanced in memory drops the entry, so the next use
// reads the stored sessions again. The map has its own mutex; when it is
// full an arbitrary entry is dropped.
//
// resumed holds the peers whose stored sessions were read since the service
// started: the first read Resumes them (the store may have lost states
// written after the last durable one, messages of which may have left) and
// writes them back, so later reads see the skip. It keeps at most
// maxResumedPeers, forgetting one whose sessions are not cached when full:
// a forgotten peer's sessions are resumed again at their next read, which
// is as safe (Resume only skips forward: no number is used twice) and
// costs the peer at most the numbers a state reserves as skipped keys.
type sessionCache struct {
	mu      sync.Mutex
	m       map[peer.ID][]*ratchet.Session
	resumed map[peer.ID]struct{}
}

// isResumed reports whether p's stored sessions were resumed since start.
func (c *sessionCache) isResumed(p peer.ID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.resumed[p]
	return ok
}

func (c *sessionCache) markResumed(p peer.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.resumed == nil {
		c.resumed = make(map[peer.ID]struct{})
	}
	if _, ok := c.resumed[p]; !ok && len(c.resumed) >= maxResumedPeers {
		for k := range c.resumed {
			if _, cached := c.m[k]; !cached {
				delete(c.resumed, k)
				break
			}
		}
	}
	c.resumed[p] = struct{}{}
}

func (c *sessionCache) get(p peer.ID) ([]*ratchet.Session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ss, ok := c.m[p]
	return ss, ok
}

func (c *sessionCache) set(p peer.ID, ss []*ratchet.Session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[peer.ID][]*ratchet.Session)
	}
	if _, ok := c.m[p]; !ok && len(c.m) >= maxCachedPeers {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	if len(ss) > maxSessions {
		ss = ss[:maxSessions]
	}
	c.m[p] = ss
}

func (c *sessionCache) drop(p peer.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, p)
}
