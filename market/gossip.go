package market

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/p2p"
)

// chainCheckTimeout bounds the chain reads a validator may make.
const chainCheckTimeout = 10 * time.Second

// endSkew is how far past an auction's end a bid is still let through:
// clocks differ, and the contract has the last word.
const endSkew = 5 * time.Second

// validate is the market topic's validator: an error rejects the message
// and scores its sender down. See the package doc for the rules.
func (s *Service) validate(ctx context.Context, from peer.ID, payload []byte) error {
	m, err := decodeMessage(payload)
	if err != nil {
		return err
	}
	switch {
	case m.Listing != nil:
		if err := s.acceptListing(ctx, from, m.Listing); err != nil {
			s.stats.listBad.Add(1)
			return err
		}
		s.stats.listOK.Add(1)
	case m.Bid != nil:
		start := time.Now()
		err := s.acceptBid(ctx, m.Bid)
		s.stats.bidNanos.Add(int64(time.Since(start)))
		if err != nil {
			s.stats.bidsBad.Add(1)
			s.log.Debug("bid refused", "asset", m.Bid.Asset, "origin", from, "err", err)
			return err
		}
		s.stats.bidsOK.Add(1)
	case m.Notice != nil:
		// Learned only once the chain shows the item (reconcile).
		s.queueRefresh(*m.Notice)
	}
	return nil
}

// acceptListing checks a listing (signature, signer, item of our
// collection, and the chain: a running auction by the listed seller) and
// records it. from is the gossip origin, or "" for a listing from sync.
func (s *Service) acceptListing(ctx context.Context, from peer.ID, l *Listing) error {
	if from != "" && l.Signer != from {
		return fmt.Errorf("listing signed by %s but published by %s", l.Signer, from)
	}
	if err := l.verify(); err != nil {
		return err
	}
	item, err := s.itemAddress(l.Asset)
	if err != nil {
		return err
	}
	if !equalAddr(item, l.Item) {
		return fmt.Errorf("listing of %s names item %s, but that asset's item in this collection is %s", l.Asset, l.Item, item)
	}
	s.mu.Lock()
	a := s.auctions[l.Asset.Name]
	if a != nil && a.listing != nil && !l.Started.After(a.listing.Started) {
		s.mu.Unlock()
		return nil // already known (or older): nothing to check
	}
	s.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, chainCheckTimeout)
	defer cancel()
	it, err := s.readItem(cctx, l.Asset)
	if err != nil {
		// The chain cannot be asked now: keep the listing unconfirmed; the
		// chain pass reads it later.
		s.log.Debug("listing not checked against the chain", "asset", l.Asset, "err", err)
	} else if it.Auction == nil {
		if time.Now().Before(l.End) {
			return fmt.Errorf("listing of %s: the chain shows no auction for it", l.Asset)
		}
	} else if !equalAddr(it.Owner, l.Seller) {
		return fmt.Errorf("listing of %s: seller %s, but the chain's owner is %s", l.Asset, l.Seller, it.Owner)
	}
	s.mu.Lock()
	a = s.auctionLocked(l.Asset, item)
	if a.listing == nil || l.Started.After(a.listing.Started) {
		a.listing = l
	}
	if it != nil {
		s.applyChainLocked(a, it, time.Now())
	}
	s.known[l.Asset.Name] = l.Asset
	s.mu.Unlock()
	s.saveListing(l)
	s.saveKnown(l.Asset)
	if it != nil {
		s.saveView(a)
	}
	return nil
}

// auctionLocked returns the view of asset, creating it. s.mu is held.
func (s *Service) auctionLocked(asset onchain.Asset, item *address.Address) *auction {
	a := s.auctions[asset.Name]
	if a == nil {
		a = &auction{asset: asset, item: item}
		s.auctions[asset.Name] = a
	}
	return a
}

// acceptBid checks a bid and, if it is good, applies it to the view and
// queues its order for relay to the chain.
func (s *Service) acceptBid(ctx context.Context, b *Bid) error {
	o, err := s.verifiedOrder(b)
	if err != nil {
		return err
	}
	item, err := s.itemAddress(b.Asset)
	if err != nil {
		return err
	}
	if !equalAddr(item, o.Item) {
		return fmt.Errorf("bid for %s sends to %s, not to that asset's item %s", b.Asset, o.Item, item)
	}
	bidder, hash := o.Bidder, o.Hash
	now := time.Now()
	if !o.ValidUntil.After(now) {
		return fmt.Errorf("bid order expired at %s", o.ValidUntil.UTC().Format(time.RFC3339))
	}
	amount := o.Amount
	if amount == nil || amount.Sign() <= 0 {
		return errors.New("bid order carries no bid above the gas")
	}
	if err := s.ensureAuction(ctx, b.Asset, item); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	key := hex.EncodeToString(hash)
	if _, dup := s.orders[key]; dup {
		return fmt.Errorf("bid order %s was already accepted: a replay", key[:16])
	}
	wal := bidder.StringRaw()
	if prev, ok := s.seqnos[wal]; ok {
		if o.Seqno < prev.seqno {
			return fmt.Errorf("bid order seqno %d of %s is older than its accepted order %d: a replay", o.Seqno, wal, prev.seqno)
		}
		if o.Seqno == prev.seqno && prev.validUntil.After(now) {
			return fmt.Errorf("bid order seqno %d of %s conflicts with another order of the same seqno", o.Seqno, wal)
		}
	}
	a := s.auctions[b.Asset.Name]
	st, ok := a.effective(now)
	if !ok || !st.open {
		return fmt.Errorf("%s has no running auction", b.Asset)
	}
	if now.After(st.end.Add(endSkew)) {
		return fmt.Errorf("the auction of %s ended at %s", b.Asset, st.end.UTC().Format(time.RFC3339))
	}
	floor := st.minBid
	if st.chainMin != nil {
		floor = st.chainMin
	}
	if amount.Cmp(floor) < 0 {
		return fmt.Errorf("bid %s nanoTON for %s is below the minimum %s the chain requires", amount, b.Asset, floor)
	}
	s.orders[key] = o.ValidUntil
	s.seqnos[wal] = seenSeqno{seqno: o.Seqno, hash: key, validUntil: o.ValidUntil}
	// Above the chain's minimum but below a newer gossip bid: an honest
	// race. It spreads (the contract decides) but does not lead here.
	leads := amount.Cmp(st.minNext) >= 0
	if leads {
		a.addPending(&pendingBid{bidder: bidder, amount: new(big.Int).Set(amount), hash: hash, wallet: wal,
			seqno: o.Seqno, validUntil: o.ValidUntil, at: now})
	}
	ev := AcceptedBid{Asset: b.Asset, Bidder: bidder, Amount: amount, OrderHash: hash, At: now, Leads: leads}
	for _, h := range s.hooks {
		h(ev)
	}
	select {
	case s.relayq <- relayed{boc: b.Order, item: o.Item}:
	default:
		s.log.Warn("bid relay queue full; the bid is not relayed by this node", "asset", b.Asset)
	}
	return nil
}

// ensureAuction makes sure the view knows whether asset has a running
// auction: if it has never read the item, it reads it now.
func (s *Service) ensureAuction(ctx context.Context, asset onchain.Asset, item *address.Address) error {
	s.mu.Lock()
	a := s.auctions[asset.Name]
	known := a != nil && (a.chain != nil || a.listing != nil)
	s.mu.Unlock()
	if known {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, chainCheckTimeout)
	defer cancel()
	it, err := s.readItem(cctx, asset)
	if err != nil {
		// Not the sender's fault: drop the bid here without penalty.
		return fmt.Errorf("%w: cannot check the bid against the chain now: %w", p2p.ErrIgnore, err)
	}
	if it.Auction == nil {
		return fmt.Errorf("%s has no running auction on chain", asset)
	}
	s.mu.Lock()
	s.applyChainLocked(s.auctionLocked(asset, item), it, time.Now())
	s.known[asset.Name] = asset
	s.mu.Unlock()
	return nil
}

// relayed is an accepted bid's order, queued for the chain, and the item
// it bids on (decoded once, by the validator).
type relayed struct {
	boc  []byte
	item *address.Address
}

// relayLoop sends accepted bid orders to the chain: the mempool. An order
// that already executed (relayed by another node) is refused by the
// wallet, which is fine.
func (s *Service) relayLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-s.relayq:
			c, err := s.chain()
			if err != nil {
				continue
			}
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			_, err = c.SendExternal(rctx, r.boc)
			cancel()
			switch {
			case err == nil:
				// This node put it on chain: re-read the item.
				s.refreshItem(ctx, r.item)
			case errors.Is(err, ton.ErrRejected):
				s.log.Debug("relayed bid refused by the wallet (already executed or expired)")
			default:
				s.log.Debug("relaying a bid failed", "err", err)
			}
		}
	}
}

// refreshItem queues the asset whose item is addr for a chain read.
func (s *Service) refreshItem(_ context.Context, addr *address.Address) {
	s.mu.Lock()
	var asset *onchain.Asset
	for _, a := range s.auctions {
		if equalAddr(a.item, addr) {
			asset = &a.asset
			break
		}
	}
	s.mu.Unlock()
	if asset != nil {
		s.queueRefresh(*asset)
	}
}

func (s *Service) queueRefresh(a onchain.Asset) {
	select {
	case s.refresh <- a:
	default:
	}
}

// refreshLoop reads queued assets from the chain.
func (s *Service) refreshLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-s.refresh:
			if err := s.reconcile(ctx, a); err != nil {
				s.log.Debug("reconcile failed", "asset", a, "err", err)
			}
		}
	}
}

// publish sends payload on the market topic.
func (s *Service) publish(ctx context.Context, payload []byte) error {
	if s.topic == nil {
		return errors.New("market: the service is not started")
	}
	if err := s.topic.Publish(ctx, payload); err != nil {
		return fmt.Errorf("market: %w", err)
	}
	return nil
}

// learn adds asset to the known items.
func (s *Service) learn(a onchain.Asset) {
	s.mu.Lock()
	_, had := s.known[a.Name]
	if !had && len(s.known) < maxKnown {
		s.known[a.Name] = a
	}
	s.mu.Unlock()
	if !had {
		s.saveKnown(a)
	}
}

// maxKnown bounds the known items a node keeps.
const maxKnown = 1_000_000
