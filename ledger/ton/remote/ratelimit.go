package remote

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Default faucet limits per requesting peer: a burst of DefaultFaucetBurst
// requests, then one more every DefaultFaucetEvery.
const (
	DefaultFaucetBurst = 10
	DefaultFaucetEvery = 6 * time.Second
	// maxFaucetPeers bounds the limiter's memory; past it, peers whose
	// allowance is full again are forgotten.
	maxFaucetPeers = 4096
)

// limiter is a token bucket per peer.
type limiter struct {
	mu    sync.Mutex
	burst float64
	every time.Duration
	now   func() time.Time
	peers map[peer.ID]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, every time.Duration) *limiter {
	return &limiter{burst: float64(burst), every: every, now: time.Now, peers: make(map[peer.ID]*bucket)}
}

// allow takes one request from p's allowance; when there is none it says
// how long until there is.
func (l *limiter) allow(p peer.ID) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.peers[p]
	if !ok {
		if len(l.peers) >= maxFaucetPeers {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.peers[p] = b
	}
	l.refill(b, now)
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.every))
	}
	b.tokens--
	return true, 0
}

func (l *limiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(l.burst, b.tokens+float64(el)/float64(l.every))
		b.at = now
	}
}

func (l *limiter) prune(now time.Time) {
	for p, b := range l.peers {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.peers, p)
		}
	}
}
