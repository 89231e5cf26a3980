package compute

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/compute/attest"
)

// maxVerified bounds the offers a client remembers as verified.
const maxVerified = 1024

// verifiedOffers remembers the offers this client has verified, by the
// hash of their signed bytes: a worker's signature and attestation are
// checked once per offer it publishes, not on every request the proxy
// routes to it. A remembered offer is still checked for freshness (its
// times and its key's expiry) at every use, and an offer whose bytes
// differ in any way is verified anew.
type verifiedOffers struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]*verifiedOffer
}

// verifiedOffer is an offer whose signature and attestation were checked
// under this client's policy.
type verifiedOffer struct {
	offer  *Offer
	worker peer.ID
	result attest.Result
}

func (v *verifiedOffers) get(key [sha256.Size]byte, now time.Time) *verifiedOffer {
	v.mu.Lock()
	defer v.mu.Unlock()
	e := v.m[key]
	if e == nil {
		return nil
	}
	if e.offer.fresh(now) != nil {
		delete(v.m, key)
		return nil
	}
	return e
}

func (v *verifiedOffers) put(key [sha256.Size]byte, e *verifiedOffer, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = make(map[[sha256.Size]byte]*verifiedOffer)
	}
	if len(v.m) >= maxVerified {
		for k, old := range v.m {
			if old.offer.fresh(now) != nil {
				delete(v.m, k)
			}
		}
		if len(v.m) >= maxVerified {
			clear(v.m)
		}
	}
	v.m[key] = e
}

// checkOffer opens a worker's signed offer and verifies its attestation
// under this client's policy, or finds it verified already. A bad offer
// is an error of the proxy (errOffer); an offer this client's policy
// refuses is errRefused.
func (s *Service) checkOffer(ctx context.Context, raw []byte, now time.Time) (v *verifiedOffer, errOffer, errRefused error) {
	key := sha256.Sum256(raw)
	if v := s.verified.get(key, now); v != nil {
		return v, nil, nil
	}
	o, id, err := openOffer(raw, now)
	if err != nil {
		return nil, err, nil
	}
	res, err := s.verifyOffer(ctx, o, now)
	if err != nil {
		return &verifiedOffer{offer: o, worker: id}, nil, err
	}
	v = &verifiedOffer{offer: o, worker: id, result: res}
	s.verified.put(key, v, now)
	return v, nil, nil
}

// maxPicks bounds the (proxy, model) pairs a client remembers a pick for.
const maxPicks = 256

// lastPicks remembers, per proxy and model, the worker that proxy picked
// last, so that the next request can be sealed to it ahead (infer.go).
type lastPicks struct {
	mu sync.Mutex
	m  map[string]*verifiedOffer
}

func pickKey(proxy peer.ID, model string) string { return string(proxy) + "\x00" + model }

// get returns the last pick of proxy for model while its offer is fresh.
func (l *lastPicks) get(proxy peer.ID, model string, now time.Time) *verifiedOffer {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := l.m[pickKey(proxy, model)]
	if v == nil || v.offer.fresh(now) != nil || !v.offer.serves(model) {
		return nil
	}
	return v
}

func (l *lastPicks) put(proxy peer.ID, model string, v *verifiedOffer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil || len(l.m) >= maxPicks {
		l.m = make(map[string]*verifiedOffer)
	}
	l.m[pickKey(proxy, model)] = v
}
