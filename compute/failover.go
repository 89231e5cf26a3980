package compute

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// proxyHealth is the client's memory of proxies that did not answer: a
// proxy it could not reach, whose stream broke, or that stayed silent
// before the first byte of an answer is "down" for Config.ProxyDownFor.
// A down proxy is tried only after every proxy that is not, so requests
// stop paying its dial timeout, and it is tried first again (by
// commission) once the mark expires or a request through it succeeds.
type proxyHealth struct {
	now func() time.Time // time.Now; tests move it

	mu   sync.Mutex
	down map[peer.ID]time.Time // proxy → until when it is tried last

	failovers atomic.Uint64 // requests moved on to another proxy
}

func (h *proxyHealth) init() {
	h.down = make(map[peer.ID]time.Time)
	if h.now == nil {
		h.now = time.Now
	}
}

// markDown makes p a proxy of last resort for d.
func (h *proxyHealth) markDown(p peer.ID, d time.Duration) {
	h.mu.Lock()
	h.down[p] = h.now().Add(d)
	h.mu.Unlock()
}

// markUp forgets that p was down: a request through it worked.
func (h *proxyHealth) markUp(p peer.ID) {
	h.mu.Lock()
	delete(h.down, p)
	h.mu.Unlock()
}

// isDown reports whether p is marked down now; an expired mark is dropped.
func (h *proxyHealth) isDown(p peer.ID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	until, ok := h.down[p]
	if ok && !h.now().Before(until) {
		delete(h.down, p)
		return false
	}
	return ok
}

// order sorts proxies (cheapest first, as liveProxies returns them) into
// the order a request tries them: those not down keep their order, then
// the down ones, the one whose mark ends soonest first.
func (h *proxyHealth) order(proxies []peer.ID) []peer.ID {
	var up, down []peer.ID
	for _, p := range proxies {
		if h.isDown(p) {
			down = append(down, p)
		} else {
			up = append(up, p)
		}
	}
	h.mu.Lock()
	slices.SortStableFunc(down, func(a, b peer.ID) int { return h.down[a].Compare(h.down[b]) })
	h.mu.Unlock()
	return append(up, down...)
}

// maxProxies bounds the proxies one request is tried through.
const maxProxies = 3

// proxyOrder is the proxies a request tries, in order: this node alone
// if it is a proxy, else up to maxProxies live proxies by health and
// commission.
func (s *Service) proxyOrder() ([]peer.ID, error) {
	if s.proxy != nil {
		return []peer.ID{s.self}, nil
	}
	var ids []peer.ID
	for _, p := range s.table.liveProxies(time.Now()) {
		if p.id != s.self {
			ids = append(ids, p.id)
		}
	}
	if len(ids) == 0 {
		return nil, newError(codeNoProxy, "no compute proxy is known yet: wait for proxy announcements (a few seconds after start) or check that a proxy node is running")
	}
	ids = s.health.order(ids)
	return ids[:min(len(ids), maxProxies)], nil
}

// Failovers is how many requests this client moved on to another proxy
// because the one it tried did not answer.
func (s *Service) Failovers() uint64 { return s.health.failovers.Load() }
