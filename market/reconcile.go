package market

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/market/onchain"
)

// pendingGrace is how long a pending gossip bid is trusted before the
// chain is asked whether its order executed without reaching the item.
const pendingGrace = 5 * time.Second

// reconcile reads asset's item from the chain and updates the view: the
// chain wins. A finished auction is recorded (and journaled when this
// node's wallet sold or won it).
func (s *Service) reconcile(ctx context.Context, asset onchain.Asset) error {
	it, err := s.readItem(ctx, asset)
	if err != nil {
		return err
	}
	if !it.Minted {
		return nil
	}
	s.learn(asset)
	item, err := s.itemAddress(asset)
	if err != nil {
		return err
	}
	now := time.Now()
	s.mu.Lock()
	a := s.auctions[asset.Name]
	if a == nil && it.Auction == nil {
		s.mu.Unlock()
		return nil
	}
	a = s.auctionLocked(asset, item)
	res := s.applyChainLocked(a, it, now)
	if res == nil && a.result != nil && a.result.Sold && a.result.Price == nil {
		res = a.result // its price was not found last time: look again
	}
	var check []*pendingBid
	for _, p := range a.pending {
		if now.Sub(p.at) > pendingGrace {
			check = append(check, p)
		}
	}
	s.mu.Unlock()

	if len(check) > 0 {
		dead := s.deadOrders(ctx, check)
		if len(dead) > 0 {
			s.mu.Lock()
			a.prune(time.Now(), func(p *pendingBid) bool { return dead[p] })
			s.mu.Unlock()
		}
	}
	if res != nil {
		s.finish(ctx, a, res)
	}
	s.saveView(a)
	return nil
}

// applyChainLocked stores a chain read in a's view and returns the result
// of the auction run it shows to be over, if any. s.mu is held.
func (s *Service) applyChainLocked(a *auction, it *onchain.Item, now time.Time) *Result {
	prev := a.chain
	a.chain, a.readAt = it, now
	var res *Result
	switch {
	case prev != nil && prev.Auction != nil && !sameAuction(prev.Auction, it.Auction):
		res = &Result{Seller: prev.Owner, End: prev.Auction.End, Settled: now}
		// The owner changed: it sold, perhaps to bids this node never saw.
		if !equalAddr(it.Owner, prev.Owner) {
			res.Sold, res.Winner = true, it.Owner
			if equalAddr(prev.Auction.Leader, it.Owner) {
				res.Price = prev.Auction.LeadingBid
			}
		}
	case a.listing != nil && (prev == nil || prev.Auction == nil) && !listedRunGoesOn(a.listing, it.Auction) &&
		(a.result == nil || a.result.End.Before(a.listing.End)) && !now.Before(a.listing.End):
		// A run this node knew only from its listing (it was offline).
		res = &Result{Seller: a.listing.Seller, End: a.listing.End, Settled: now}
		if !equalAddr(it.Owner, a.listing.Seller) {
			res.Sold, res.Winner = true, it.Owner
		}
	}
	if res != nil {
		a.result = res
	}
	a.prune(now, nil)
	return res
}

// listedRunGoesOn reports whether the chain's auction is the listed run.
func listedRunGoesOn(l *Listing, c *onchain.Auction) bool {
	return c != nil && c.MinBid.Cmp(l.Params.MinBid) == 0 && !c.End.Before(l.End)
}

// deadOrders asks the chain which pending bids' orders were executed by
// their wallet (its seqno moved past them) without the item showing them.
func (s *Service) deadOrders(ctx context.Context, ps []*pendingBid) map[*pendingBid]bool {
	c, err := s.chain()
	if err != nil {
		return nil
	}
	dead := make(map[*pendingBid]bool)
	for _, p := range ps {
		addr, err := address.ParseRawAddr(p.wallet)
		if err != nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, chainCheckTimeout)
		res, err := c.RunGetMethod(cctx, addr, "seqno")
		cancel()
		if err != nil || len(res) == 0 {
			continue
		}
		if n, ok := res[0].(*big.Int); ok && n.Cmp(big.NewInt(int64(p.seqno))) > 0 {
			dead[p] = true
		}
	}
	return dead
}

// finish completes a finished auction's result (the price, from the
// item's settling transaction) and journals it on the seller's and the
// winner's node.
// res is already a's visible result: it is only written under s.mu.
func (s *Service) finish(ctx context.Context, a *auction, res *Result) {
	if res.Sold {
		if price, fee, err := s.settledPrice(ctx, a.item); err == nil {
			s.mu.Lock()
			res.Price, res.Fee = price, fee
			s.mu.Unlock()
		} else {
			s.log.Warn("settled auction: price not found on chain", "asset", a.asset, "err", err)
		}
	}
	s.log.Info("auction finished", "asset", a.asset, "sold", res.Sold, "winner", s.fmtAddr(res.Winner), "price", fmtNano(res.Price))
	if !res.Sold || res.Price == nil {
		return
	}
	w, err := s.wallet()
	if err != nil {
		return
	}
	me := w.Address()
	key := fmt.Sprintf("auction:%s:%d", a.item.StringRaw(), res.End.Unix())
	payload, _ := json.Marshal(map[string]string{
		"asset": a.asset.String(), "item": a.item.StringRaw(), "price": res.Price.String(),
		"fee": fmtNano(res.Fee), "seller": s.fmtAddr(res.Seller), "winner": s.fmtAddr(res.Winner),
	})
	var entries []journal.Entry
	if equalAddr(me, res.Seller) {
		net := new(big.Int).Set(res.Price)
		if res.Fee != nil {
			net.Sub(net, res.Fee)
		}
		entries = append(entries, journal.Entry{Kind: journal.KindAuctionSettled, Key: key, Amount: net,
			Counterparty: res.Winner.StringRaw(), Payload: payload})
	}
	if equalAddr(me, res.Winner) {
		entries = append(entries, journal.Entry{Kind: journal.KindAuctionSettled, Key: key + ":won", Amount: new(big.Int).Neg(res.Price),
			Counterparty: res.Seller.StringRaw(), Payload: payload})
	}
	for _, e := range entries {
		if err := s.ledger.Record(ctx, e); err != nil {
			s.log.Error("journaling the auction result failed", "asset", a.asset, "err", err)
			return
		}
	}
	if len(entries) > 0 {
		s.mu.Lock()
		res.Recorded = true
		s.mu.Unlock()
	}
}

// settledPrice finds, in the item's transactions, the latest one that paid
// out a winning bid: the price is the royalty plus the proceeds, the fee
// the royalty.
func (s *Service) settledPrice(ctx context.Context, item *address.Address) (price, fee *big.Int, err error) {
	c, err := s.chain()
	if err != nil {
		return nil, nil, err
	}
	txs, err := c.Transactions(ctx, item, 0, 0)
	if err != nil {
		return nil, nil, err
	}
	for i := len(txs) - 1; i >= 0; i-- {
		price, fee = new(big.Int), new(big.Int)
		found := false
		for _, m := range txs[i].Out {
			switch opOf(m.Body) {
			case uint64(onchain.OpProceeds):
				price.Add(price, m.Value)
				found = true
			case uint64(onchain.OpRoyalty):
				price.Add(price, m.Value)
				fee.Add(fee, m.Value)
				found = true
			}
		}
		if found {
			return price, fee, nil
		}
	}
	return nil, nil, fmt.Errorf("no settling transaction among the %d of item %s", len(txs), item.StringRaw())
}

// chainLoop waits for the chain, deploys the collection (registry), catches
// up from peers, then reconciles and settles every SettleInterval.
func (s *Service) chainLoop(ctx context.Context) {
	for {
		if _, err := s.wallet(); err == nil {
			break
		}
		if !sleepCtx(ctx, 500*time.Millisecond) {
			return
		}
	}
	// The registry deploys the collection as soon as its wallet can pay
	// for it (a new testnet funds it only after start), retrying quickly.
	deployed, retry := !s.cfg.Registry, 2*time.Second
	synced := false
	for {
		wait := s.cfg.SettleInterval
		if !deployed {
			err := s.deployCollection(ctx)
			if deployed = err == nil; !deployed {
				if retry == 2*time.Second {
					s.log.Warn("market collection not deployed yet; minting waits for it (retrying)", "err", err)
				}
				wait, retry = min(wait, retry), min(2*retry, s.cfg.SettleInterval)
			}
		}
		if !synced {
			synced = s.syncFromPeers(ctx)
		}
		s.pass(ctx)
		if !sleepCtx(ctx, wait) {
			return
		}
	}
}

// pass reconciles every known auction and settles those that ended: the
// seller's node at once, any node after two more intervals.
func (s *Service) pass(ctx context.Context) {
	now := time.Now()
	s.mu.Lock()
	var assets []onchain.Asset
	for _, a := range s.auctions {
		if st, ok := a.effective(now); ok && st.open || a.chain == nil {
			assets = append(assets, a.asset)
		}
	}
	for k, until := range s.orders {
		if until.Before(now) {
			delete(s.orders, k)
		}
	}
	for k, v := range s.seqnos {
		if v.validUntil.Before(now.Add(-time.Hour)) {
			delete(s.seqnos, k)
		}
	}
	s.mu.Unlock()
	w, err := s.wallet()
	if err != nil {
		return
	}
	me := w.Address()
	for _, asset := range assets {
		if ctx.Err() != nil {
			return
		}
		if err := s.reconcile(ctx, asset); err != nil {
			s.log.Debug("reconcile failed", "asset", asset, "err", err)
			continue
		}
		s.mu.Lock()
		a := s.auctions[asset.Name]
		st, ok := a.effective(time.Now())
		onChain := a.chain != nil && a.chain.Auction != nil
		s.mu.Unlock()
		if !ok || !st.open || !onChain || time.Now().Before(st.end.Add(time.Second)) {
			continue
		}
		mine := equalAddr(st.seller, me)
		if mine || time.Now().After(st.end.Add(2*s.cfg.SettleInterval)) {
			if _, err := s.Settle(ctx, asset); err != nil {
				s.log.Debug("auto-settle failed", "asset", asset, "err", err)
			}
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
