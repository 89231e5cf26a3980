package market

import (
	"crypto/sha256"
	"fmt"
	"sync"

	"github.com/tonmesh/tonmesh/market/onchain"
)

// maxVerifiedBids bounds the bid orders a node remembers as verified.
const maxVerifiedBids = 4096

// verifiedBids remembers the bid orders whose wallet signature this node
// has checked, by SHA-256 of exactly what was checked (the claimed wallet
// version and key, and the order's bytes): the same bid seen again (through
// a relay, sync, or its publisher's own check) costs a hash, not an Ed25519
// verification. Only orders that decoded and verified are remembered; any
// byte of difference is a different entry and is checked anew. What holds
// only now (expiry, replay, the auction's state) is checked at every use.
// Entries leave in the order they came (a ring of maxVerifiedBids).
type verifiedBids struct {
	mu   sync.Mutex
	m    map[[sha256.Size]byte]*onchain.BidOrder
	ring [][sha256.Size]byte
	next int
}

func bidKey(b *Bid) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte("tonmesh/market/verified-bid\x00"))
	h.Write([]byte(b.Version))
	h.Write([]byte{0})
	h.Write(b.WalletKey)
	h.Write(b.Order)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func (v *verifiedBids) get(k [sha256.Size]byte) *onchain.BidOrder {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m[k]
}

func (v *verifiedBids) put(k [sha256.Size]byte, o *onchain.BidOrder) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = make(map[[sha256.Size]byte]*onchain.BidOrder, maxVerifiedBids)
		v.ring = make([][sha256.Size]byte, maxVerifiedBids)
	}
	if _, ok := v.m[k]; ok {
		return
	}
	if old := v.ring[v.next]; v.m[old] != nil {
		delete(v.m, old)
	}
	v.ring[v.next] = k
	v.next = (v.next + 1) % len(v.ring)
	v.m[k] = o
}

// len is how many orders are remembered.
func (v *verifiedBids) len() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.m)
}

// verifiedOrder decodes b's order and checks that b's wallet key signed it
// for the claimed wallet version, or finds that this node did so before.
// The order returned is shared: callers must not modify it.
func (s *Service) verifiedOrder(b *Bid) (*onchain.BidOrder, error) {
	k := bidKey(b)
	if o := s.verified.get(k); o != nil {
		s.stats.verifyHits.Add(1)
		return o, nil
	}
	o, err := onchain.DecodeBidOrder(b.Order, s.cfg.Collection)
	if err != nil {
		return nil, err
	}
	if o.Wallet != string(b.Version) {
		return nil, fmt.Errorf("bid claims a %s wallet but its order is a %s order", b.Version, o.Wallet)
	}
	s.stats.verifies.Add(1)
	if err := o.Verify(b.WalletKey); err != nil {
		return nil, err
	}
	s.verified.put(k, o)
	return o, nil
}
