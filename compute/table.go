package compute

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/p2p"
)

// liveOffer is a verified offer in the table.
type liveOffer struct {
	offer *Offer
	raw   []byte // the signed statement, handed to clients as is
}

// offerTable is every node's view of the live offers and proxies. Entries
// are verified before they are added and pruned when they expire.
type offerTable struct {
	mu        sync.Mutex
	offers    map[peer.ID]*liveOffer
	withdrawn map[peer.ID]int64 // worker → issued (ms) of its latest withdrawal
	proxies   map[peer.ID]*proxyAnnouncement
}

func newOfferTable() *offerTable {
	return &offerTable{
		offers:    make(map[peer.ID]*liveOffer),
		withdrawn: make(map[peer.ID]int64),
		proxies:   make(map[peer.ID]*proxyAnnouncement),
	}
}

// add applies a verified item: a newer offer replaces an older one, a
// withdrawal removes offers issued before it, a newer announcement
// replaces an older one.
func (t *offerTable) add(it *gossipItem) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case it.offer != nil:
		if w, ok := t.withdrawn[it.signer]; ok && w >= it.offer.Issued {
			return
		}
		if cur, ok := t.offers[it.signer]; ok && cur.offer.Issued >= it.offer.Issued {
			return
		}
		t.offers[it.signer] = &liveOffer{offer: it.offer, raw: it.raw}
	case it.withdraw != nil:
		if t.withdrawn[it.signer] < it.withdraw.Issued {
			t.withdrawn[it.signer] = it.withdraw.Issued
		}
		if cur, ok := t.offers[it.signer]; ok && cur.offer.Issued <= it.withdraw.Issued {
			delete(t.offers, it.signer)
		}
	case it.proxy != nil:
		if cur, ok := t.proxies[it.signer]; ok && cur.Issued >= it.proxy.Issued {
			return
		}
		t.proxies[it.signer] = it.proxy
	}
}

// prune drops what has expired and withdrawals older than any offer could be.
func (t *offerTable) prune(now time.Time) {
	ms := now.UnixMilli()
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, lo := range t.offers {
		if lo.offer.Expires <= ms {
			delete(t.offers, id)
		}
	}
	for id, p := range t.proxies {
		if p.Expires <= ms {
			delete(t.proxies, id)
		}
	}
	for id, w := range t.withdrawn {
		if ms-w > 2*maxOfferTTL.Milliseconds() {
			delete(t.withdrawn, id)
		}
	}
}

// live returns the unexpired offers, sorted by worker.
func (t *offerTable) live(now time.Time) []*liveOffer {
	ms := now.UnixMilli()
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*liveOffer, 0, len(t.offers))
	for _, lo := range t.offers {
		if lo.offer.Expires > ms {
			out = append(out, lo)
		}
	}
	slices.SortFunc(out, func(a, b *liveOffer) int { return cmpString(a.offer.Peer, b.offer.Peer) })
	return out
}

// get returns worker's live offer.
func (t *offerTable) get(worker peer.ID, now time.Time) *liveOffer {
	t.mu.Lock()
	defer t.mu.Unlock()
	lo := t.offers[worker]
	if lo == nil || lo.offer.Expires <= now.UnixMilli() {
		return nil
	}
	return lo
}

// liveProxy is a proxy in the table.
type liveProxy struct {
	id           peer.ID
	commissionBP int
}

// liveProxies returns the unexpired proxies, cheapest first.
func (t *offerTable) liveProxies(now time.Time) []liveProxy {
	ms := now.UnixMilli()
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]liveProxy, 0, len(t.proxies))
	for id, p := range t.proxies {
		if p.Expires > ms {
			out = append(out, liveProxy{id: id, commissionBP: p.CommissionBP})
		}
	}
	slices.SortFunc(out, func(a, b liveProxy) int {
		if a.commissionBP != b.commissionBP {
			return a.commissionBP - b.commissionBP
		}
		return cmpString(string(a.id), string(b.id))
	})
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// receiveGossip feeds the table from the topic until ctx ends.
func (s *Service) receiveGossip(ctx context.Context, sub *p2p.Subscription) {
	defer sub.Cancel()
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Debug("offers subscription ended", "err", err)
			}
			return
		}
		it, err := decodeGossip(m.Payload, m.From, time.Now())
		if err != nil {
			// Validated on arrival; it may have expired since.
			continue
		}
		s.table.add(it)
	}
}

// publish signs body as kind, adds it to our own table and gossips it.
func (s *Service) publish(ctx context.Context, kind byte, body any) error {
	raw, err := sign(s.id.PeerKey, kind, body)
	if err != nil {
		return err
	}
	it, err := decodeGossip(raw, s.self, time.Now())
	if err != nil {
		return err
	}
	s.table.add(it)
	return s.topic.Publish(ctx, raw)
}

// publishProxy announces this proxy.
func (s *Service) publishProxy(ctx context.Context) {
	now := time.Now()
	a := &proxyAnnouncement{Peer: s.self.String(), CommissionBP: s.proxy.commissionBP,
		Issued: now.UnixMilli(), Expires: now.Add(s.cfg.OfferTTL).UnixMilli()}
	if err := s.publish(ctx, kindProxy, a); err != nil && ctx.Err() == nil {
		s.log.Warn("publishing the proxy announcement failed; retrying at the next interval", "err", err)
	}
}

// OfferView is an offer as the API shows it, with the prices a client
// pays through the cheapest proxy.
type OfferView struct {
	Worker          string       `json:"worker"`
	Models          []OfferModel `json:"models"`
	PricePrompt     string       `json:"price_prompt"`     // worker's, nanoTON per 1M tokens
	PriceCompletion string       `json:"price_completion"` // worker's
	ClientPrompt    string       `json:"client_price_prompt,omitempty"`
	ClientComplete  string       `json:"client_price_completion,omitempty"`
	Concurrency     int          `json:"concurrency"`
	Running         int          `json:"running"`
	Attestation     string       `json:"attestation"`
	KeyExpiry       time.Time    `json:"key_expiry"`
	Expires         time.Time    `json:"expires"`
}

// ProxyView is a proxy as the API shows it.
type ProxyView struct {
	Peer              string  `json:"peer"`
	CommissionPercent float64 `json:"commission_percent"`
}

// OffersView answers GET /api/v1/compute/offers.
type OffersView struct {
	Offers  []OfferView `json:"offers"`
	Proxies []ProxyView `json:"proxies"`
}

// Offers returns the live offers and proxies this node knows.
func (s *Service) Offers() OffersView {
	now := time.Now()
	v := OffersView{Offers: []OfferView{}, Proxies: []ProxyView{}}
	proxies := s.table.liveProxies(now)
	for _, p := range proxies {
		v.Proxies = append(v.Proxies, ProxyView{Peer: p.id.String(), CommissionPercent: float64(p.commissionBP) / 100})
	}
	for _, lo := range s.table.live(now) {
		o := lo.offer
		ov := OfferView{Worker: o.Peer, Models: o.Models, PricePrompt: o.PricePrompt, PriceCompletion: o.PriceCompletion,
			Concurrency: o.Concurrency, Running: o.Running, Attestation: o.Evidence.Kind,
			KeyExpiry: time.Unix(o.KeyExpiry, 0).UTC(), Expires: time.UnixMilli(o.Expires).UTC()}
		if bp, ok := s.clientCommission(proxies); ok {
			pp, pc := o.prices()
			ov.ClientPrompt, ov.ClientComplete = withCommission(pp, bp).String(), withCommission(pc, bp).String()
		}
		v.Offers = append(v.Offers, ov)
	}
	return v
}

// clientCommission is the commission of the proxy this node would use
// (none when it is a proxy itself).
func (s *Service) clientCommission(proxies []liveProxy) (int, bool) {
	if s.proxy != nil {
		return 0, true
	}
	for _, p := range proxies {
		if p.id != s.self {
			return p.commissionBP, true
		}
	}
	return 0, false
}
