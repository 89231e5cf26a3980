package market

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/wire"
	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/p2p"
)

// Sync wire format. The request is one byte, syncVersion. The response is
//
//	version     1 byte, = syncVersion
//	listings    uvarint count, then each a listing message (lp), as gossiped
//	items       uvarint count, then each an asset name (lp)
//
// The receiver checks every listing as if it came from gossip (signature,
// item, chain) and reads every item from the chain before it believes it.
const (
	syncVersion = 1
	// maxSyncListings and maxSyncItems bound one answer.
	maxSyncListings = 2000
	maxSyncItems    = 10000
	maxSyncResponse = p2p.DefaultMaxFrame
	// syncRetention is how long after its end a listing is still served.
	syncRetention = 7 * 24 * time.Hour
	// syncPeers is how many peers a node asks.
	syncPeers = 3
)

// syncAnswer is a decoded sync response.
type syncAnswer struct {
	Listings []*Listing
	Items    []onchain.Asset
}

func (s *Service) handleSync(_ context.Context, _ peer.ID, req []byte) ([]byte, error) {
	if len(req) != 1 || req[0] != syncVersion {
		return nil, fmt.Errorf("sync request: want version %d", syncVersion)
	}
	now := time.Now()
	s.mu.Lock()
	var listings [][]byte
	for _, a := range s.auctions {
		if a.listing != nil && now.Sub(a.listing.End) < syncRetention && len(listings) < maxSyncListings {
			listings = append(listings, a.listing.raw)
		}
	}
	var items []string
	for name := range s.known {
		if len(items) == maxSyncItems {
			break
		}
		items = append(items, name)
	}
	s.mu.Unlock()
	sort.Strings(items)
	out := []byte{syncVersion}
	out = binary.AppendUvarint(out, uint64(len(listings)))
	for _, l := range listings {
		out = wire.AppendLenPrefixed(out, l)
	}
	out = binary.AppendUvarint(out, uint64(len(items)))
	for _, it := range items {
		out = wire.AppendLenPrefixed(out, []byte(it))
	}
	return out, nil
}

// decodeSync strictly decodes a sync response (bytes from a peer).
func decodeSync(b []byte) (*syncAnswer, error) {
	if len(b) > maxSyncResponse {
		return nil, fmt.Errorf("sync answer: %d bytes, the limit is %d", len(b), maxSyncResponse)
	}
	r := wire.NewReader(b)
	if v := r.Byte("version"); r.Err() == nil && v != syncVersion {
		return nil, fmt.Errorf("sync answer: version %d, want %d", v, syncVersion)
	}
	var ans syncAnswer
	n := r.Uvarint("listing count")
	if r.Err() == nil && n > maxSyncListings {
		return nil, fmt.Errorf("sync answer: %d listings, the limit is %d", n, maxSyncListings)
	}
	for i := uint64(0); i < n && r.Err() == nil; i++ {
		raw := r.LenPrefixed("listing", MaxMessage)
		if r.Err() != nil {
			break
		}
		m, err := decodeMessage(raw)
		if err != nil {
			return nil, fmt.Errorf("sync answer: listing %d: %w", i, err)
		}
		if m.Listing == nil {
			return nil, fmt.Errorf("sync answer: entry %d is not a listing", i)
		}
		ans.Listings = append(ans.Listings, m.Listing)
	}
	n = r.Uvarint("item count")
	if r.Err() == nil && n > maxSyncItems {
		return nil, fmt.Errorf("sync answer: %d items, the limit is %d", n, maxSyncItems)
	}
	for i := uint64(0); i < n && r.Err() == nil; i++ {
		a := readAsset(r)
		if r.Err() == nil {
			ans.Items = append(ans.Items, a)
		}
	}
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("sync answer: %w", err)
	}
	return &ans, nil
}

// syncFromPeers asks up to syncPeers connected peers for the listings and
// items they know, and checks each. It reports whether any peer answered.
func (s *Service) syncFromPeers(ctx context.Context) bool {
	var ps []peer.ID
	for _, p := range s.net.Peers() {
		ps = append(ps, p.ID)
	}
	rand.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	answered := 0
	for _, p := range ps {
		if answered == syncPeers || ctx.Err() != nil {
			break
		}
		if s.syncFrom(ctx, p) {
			answered++
		}
	}
	return answered > 0
}

// syncFrom asks peer p for the listings and items it knows and checks
// each. It reports whether p answered.
func (s *Service) syncFrom(ctx context.Context, p peer.ID) bool {
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	resp, err := s.net.Request(rctx, p, SyncProtocol, []byte{syncVersion}, maxSyncResponse)
	cancel()
	if err != nil {
		s.log.Debug("market sync: peer did not answer", "peer", p, "err", err)
		return false
	}
	ans, err := decodeSync(resp)
	if err != nil {
		s.log.Debug("market sync: bad answer", "peer", p, "err", err)
		return false
	}
	s.absorb(ctx, p, ans)
	return true
}

// absorb checks what a peer sent: listings as from gossip, items by a
// chain read (queued).
func (s *Service) absorb(ctx context.Context, from peer.ID, ans *syncAnswer) {
	taken := 0
	for _, l := range ans.Listings {
		if err := s.acceptListing(ctx, "", l); err != nil {
			s.log.Debug("market sync: listing refused", "peer", from, "asset", l.Asset, "err", err)
			continue
		}
		taken++
		if err := s.reconcile(ctx, l.Asset); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Debug("market sync: reconcile failed", "asset", l.Asset, "err", err)
		}
	}
	s.mu.Lock()
	var unknown []onchain.Asset
	for _, a := range ans.Items {
		if _, ok := s.known[a.Name]; !ok {
			unknown = append(unknown, a)
		}
	}
	s.mu.Unlock()
	for _, a := range unknown {
		s.queueRefresh(a)
	}
	s.log.Debug("market sync", "peer", from, "listings", taken, "new_items", len(unknown))
}
