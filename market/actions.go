package market

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"

	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// collectionDeployValue is what the registry sends to deploy the
// collection; it stays there for storage fees.
var collectionDeployValue = big.NewInt(200_000_000)

// deliveryWait bounds how long an operation waits to see its message
// executed by the destination contract.
const deliveryWait = 30 * time.Second

func queryID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

// send sends body with value from this node's wallet to a contract and
// checks that the contract accepted it: an error names the contract's exit
// code and its meaning.
func (s *Service) send(ctx context.Context, to *address.Address, value *big.Int, body *cell.Cell) (*wallet.Receipt, error) {
	w, err := s.wallet()
	if err != nil {
		return nil, err
	}
	s.walletMu.Lock()
	rc, err := w.SendPayload(ctx, to, value, body, true, nil)
	s.walletMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("market: send to %s: %w", to, err)
	}
	return rc, s.delivered(ctx, to, rc)
}

// delivered finds the destination's transaction for the receipt's message
// and returns an error if the contract refused it.
func (s *Service) delivered(ctx context.Context, to *address.Address, rc *wallet.Receipt) error {
	if len(rc.Sent) == 0 {
		return errors.New("market: the wallet sent nothing")
	}
	c, err := s.chain()
	if err != nil {
		return err
	}
	want := rc.Sent[0].Hash
	deadline := time.Now().Add(deliveryWait)
	for {
		txs, err := c.Transactions(ctx, to, rc.TxLT, 0)
		if err != nil {
			return fmt.Errorf("market: read the transactions of %s: %w", to, err)
		}
		for _, tx := range txs {
			if tx.In == nil || !bytes.Equal(tx.In.Hash, want) {
				continue
			}
			if tx.Success {
				return nil
			}
			return fmt.Errorf("%w: the contract %s refused the message with exit code %d (%s); the value came back minus fees",
				ErrConflict, to, tx.ExitCode, onchain.ExitMeaning(int(tx.ExitCode)))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("market: message %x to %s not executed within %v; check later with `tonmesh market show`", want, to, deliveryWait)
		}
		if !sleepCtx(ctx, time.Second) {
			return ctx.Err()
		}
	}
}

// me returns this node's wallet address.
func (s *Service) me() (*address.Address, error) {
	w, err := s.wallet()
	if err != nil {
		return nil, err
	}
	return w.Address(), nil
}

// deployCollection deploys the collection from the registry wallet if the
// chain does not have it yet.
func (s *Service) deployCollection(ctx context.Context) error {
	c, err := s.chain()
	if err != nil {
		return err
	}
	st, err := c.Account(ctx, s.collAddr)
	if err != nil {
		return fmt.Errorf("market: read the collection %s: %w", s.collAddr, err)
	}
	if st.Status == ton.StatusActive {
		return nil
	}
	w, err := s.wallet()
	if err != nil {
		return err
	}
	if !equalAddr(w.Address(), s.cfg.Collection.Registry) {
		return fmt.Errorf("%w: this node's wallet %s is not the registry %s: market.registry names another wallet",
			ErrForbidden, s.fmtAddr(w.Address()), s.fmtAddr(s.cfg.Collection.Registry))
	}
	init, err := s.cfg.Collection.StateInit()
	if err != nil {
		return err
	}
	s.walletMu.Lock()
	_, err = w.SendPayload(ctx, s.collAddr, collectionDeployValue, nil, false, init)
	s.walletMu.Unlock()
	if err != nil {
		return fmt.Errorf("market: deploy the collection: %w", err)
	}
	s.log.Info("market collection deployed", "address", s.collAddr.String())
	return nil
}

// Mint mints asset to owner (this node's wallet when nil). Registry only.
func (s *Service) Mint(ctx context.Context, asset onchain.Asset, owner *address.Address) (*AssetInfo, error) {
	if !s.cfg.Registry {
		return nil, fmt.Errorf("%w: only the registry mints, and market.registry names another wallet than this node's", ErrForbidden)
	}
	me, err := s.me()
	if err != nil {
		return nil, err
	}
	if !equalAddr(me, s.cfg.Collection.Registry) {
		return nil, fmt.Errorf("%w: this node's wallet %s is not the registry %s", ErrForbidden, s.fmtAddr(me), s.fmtAddr(s.cfg.Collection.Registry))
	}
	if err := s.deployCollection(ctx); err != nil {
		return nil, err
	}
	it, err := s.readItem(ctx, asset)
	if err != nil {
		return nil, err
	}
	if it.Minted {
		return nil, fmt.Errorf("%w: %s is already minted (owner %s)", ErrConflict, asset, s.fmtAddr(it.Owner))
	}
	if owner == nil {
		owner = me
	}
	if _, err := s.send(ctx, s.collAddr, big.NewInt(onchain.MintGas), onchain.MintBody(queryID(), asset, owner)); err != nil {
		return nil, err
	}
	info, err := s.Show(ctx, asset)
	if err != nil {
		return nil, err
	}
	if !info.Minted {
		return nil, fmt.Errorf("%w: the collection accepted the mint of %s but the item is not there; see the collection's transactions", ErrConflict, asset)
	}
	s.announce(ctx, asset)
	return info, nil
}

// BuyNumber buys a random unminted +888 number at the collection's price.
func (s *Service) BuyNumber(ctx context.Context) (*AssetInfo, error) {
	c, err := s.chain()
	if err != nil {
		return nil, err
	}
	me, err := s.me()
	if err != nil {
		return nil, err
	}
	cs, err := onchain.ReadCollection(ctx, c, s.collAddr)
	if err != nil {
		return nil, fmt.Errorf("%w: the market collection is not readable (is it deployed? the registry node deploys it): %w", ErrConflict, err)
	}
	var asset onchain.Asset
	for tries := 0; ; tries++ {
		asset = onchain.RandomNumber()
		it, err := s.readItem(ctx, asset)
		if err != nil {
			return nil, err
		}
		if !it.Minted {
			break
		}
		if tries == 20 {
			return nil, fmt.Errorf("%w: 20 random numbers were all taken; try again", ErrConflict)
		}
	}
	rc, err := s.send(ctx, s.collAddr, onchain.BuyValue(cs.NumberPrice), onchain.BuyNumberBody(queryID(), asset))
	if err != nil {
		return nil, err
	}
	info, err := s.Show(ctx, asset)
	if err != nil {
		return nil, err
	}
	if !info.Minted || info.Owner != s.fmtAddr(me) {
		return nil, fmt.Errorf("%w: %s went to someone else first; the payment was refunded: buy again", ErrConflict, asset)
	}
	item, _ := s.itemAddress(asset)
	payload := fmt.Appendf(nil, `{"asset":%q,"item":%q,"price":%q}`, asset.String(), item.StringRaw(), cs.NumberPrice)
	if err := s.ledger.Record(ctx, journal.Entry{Kind: journal.KindSale, Key: "sale:" + item.StringRaw(),
		Amount: new(big.Int).Neg(cs.NumberPrice), Counterparty: s.collAddr.StringRaw(), Payload: payload}); err != nil {
		s.log.Error("journaling the number purchase failed", "asset", asset, "tx", hex.EncodeToString(rc.TxHash), "err", err)
	}
	s.announce(ctx, asset)
	return info, nil
}

// ownedItem reads asset and checks that this node's wallet owns it.
func (s *Service) ownedItem(ctx context.Context, asset onchain.Asset) (*onchain.Item, *address.Address, *address.Address, error) {
	it, err := s.readItem(ctx, asset)
	if err != nil {
		return nil, nil, nil, err
	}
	if !it.Minted {
		return nil, nil, nil, fmt.Errorf("%w: %s is not minted", ErrNotFound, asset)
	}
	me, err := s.me()
	if err != nil {
		return nil, nil, nil, err
	}
	if !equalAddr(me, it.Owner) {
		return nil, nil, nil, fmt.Errorf("%w: %s belongs to %s, not to this node's wallet %s", ErrForbidden, asset, s.fmtAddr(it.Owner), s.fmtAddr(me))
	}
	item, err := s.itemAddress(asset)
	return it, item, me, err
}

// StartAuction starts an auction of an asset this node's wallet owns and
// announces it on the market topic.
func (s *Service) StartAuction(ctx context.Context, asset onchain.Asset, p onchain.AuctionParams) (*AuctionInfo, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	it, item, me, err := s.ownedItem(ctx, asset)
	if err != nil {
		return nil, err
	}
	if it.Auction != nil {
		return nil, fmt.Errorf("%w: %s is already on auction until %s", ErrConflict, asset, it.Auction.End.UTC().Format(time.RFC3339))
	}
	body, err := onchain.StartAuctionBody(queryID(), p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	started := time.Now()
	rc, err := s.send(ctx, item, big.NewInt(onchain.OpGas), body)
	if err != nil {
		return nil, err
	}
	if it, err = s.readItem(ctx, asset); err != nil {
		return nil, err
	}
	if it.Auction == nil {
		return nil, fmt.Errorf("%w: the item accepted the auction of %s but shows none", ErrConflict, asset)
	}
	if p.StepPercent == 0 {
		p.StepPercent = it.Auction.StepPercent
	}
	if p.Extension == 0 {
		p.Extension = it.Auction.Extension
	}
	if p.MaxBid != nil && p.MaxBid.Sign() == 0 {
		p.MaxBid = nil
	}
	l := &Listing{Asset: asset, Item: item, Seller: me, Params: p, End: it.Auction.End, Started: started, Tx: rc.TxHash}
	raw, err := signListing(l, s.id.PeerKey)
	if err != nil {
		return nil, err
	}
	if err := s.publish(ctx, raw); err != nil {
		s.log.Warn("auction started but its listing was not published; peers learn it at their next sync", "asset", asset, "err", err)
		_ = s.acceptListing(ctx, "", l)
	}
	return s.auctionInfo(asset)
}

// Bid bids amount nanoTON on asset's auction: it signs the wallet order,
// gossips it (every node that accepts it relays it to the chain) and
// submits it itself, then returns the view once the order executed.
func (s *Service) Bid(ctx context.Context, asset onchain.Asset, amount *big.Int) (*AuctionInfo, error) {
	if amount == nil || amount.Sign() <= 0 {
		return nil, fmt.Errorf("%w: the bid must be more than zero", ErrBadRequest)
	}
	item, err := s.itemAddress(asset)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if err := s.reconcile(ctx, asset); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var st state
	ok := false
	if a := s.auctions[asset.Name]; a != nil {
		st, ok = a.effective(time.Now())
	}
	s.mu.Unlock()
	if !ok || !st.open {
		return nil, fmt.Errorf("%w: %s is not on auction", ErrConflict, asset)
	}
	if time.Now().After(st.end) {
		return nil, fmt.Errorf("%w: the auction of %s ended at %s", ErrConflict, asset, st.end.UTC().Format(time.RFC3339))
	}
	if amount.Cmp(st.minNext) < 0 {
		return nil, fmt.Errorf("%w: bid at least %s TON on %s (the minimum next bid)", ErrBadRequest, wallet.FormatTON(st.minNext), asset)
	}
	w, err := s.wallet()
	if err != nil {
		return nil, err
	}
	s.walletMu.Lock()
	defer s.walletMu.Unlock()
	o, err := w.SignOrder(ctx, item, onchain.BidValue(amount), onchain.BidBody(queryID()), true, nil)
	if err != nil {
		return nil, fmt.Errorf("market: sign the bid: %w", err)
	}
	pub := s.id.WalletKey.Public().(ed25519.PublicKey)
	if err := s.PublishBid(ctx, asset, o.BOC, pub, w.Version()); err != nil {
		return nil, err
	}
	rc, err := w.SubmitOrder(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("market: the bid was gossiped but submitting it failed: %w", err)
	}
	if err := s.delivered(ctx, item, rc); err != nil {
		_ = s.reconcile(ctx, asset)
		return nil, err
	}
	if err := s.reconcile(ctx, asset); err != nil {
		return nil, err
	}
	return s.auctionInfo(asset)
}

// PublishBid gossips a bid whose order (a signed external message of the
// wallet of key and version v, sending BidValue to asset's item) is
// already made. This node's validator checks it first: an error says why
// it was refused.
func (s *Service) PublishBid(ctx context.Context, asset onchain.Asset, order []byte, key ed25519.PublicKey, v identity.WalletVersion) error {
	payload, err := encodeBid(&Bid{Asset: asset, Version: v, WalletKey: key, Order: order})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if err := s.publish(ctx, payload); err != nil {
		return fmt.Errorf("%w: the bid was refused: %w", ErrConflict, err)
	}
	return nil
}

// Cancel cancels this node's auction of asset; only while it has no bids.
func (s *Service) Cancel(ctx context.Context, asset onchain.Asset) (*AssetInfo, error) {
	it, item, _, err := s.ownedItem(ctx, asset)
	if err != nil {
		return nil, err
	}
	if it.Auction == nil {
		return nil, fmt.Errorf("%w: %s is not on auction", ErrConflict, asset)
	}
	if it.Auction.Bids > 0 {
		return nil, fmt.Errorf("%w: the auction of %s has %d bid(s): it can only be settled after it ends", ErrConflict, asset, it.Auction.Bids)
	}
	if _, err := s.send(ctx, item, big.NewInt(onchain.OpGas), onchain.CancelBody(queryID())); err != nil {
		return nil, err
	}
	s.announce(ctx, asset)
	return s.Show(ctx, asset)
}

// Settle settles asset's ended auction (anyone may): the winner gets the
// asset, the seller the proceeds, the registry the fee.
func (s *Service) Settle(ctx context.Context, asset onchain.Asset) (*AssetInfo, error) {
	it, err := s.readItem(ctx, asset)
	if err != nil {
		return nil, err
	}
	if it.Auction == nil {
		return nil, fmt.Errorf("%w: %s has no auction to settle", ErrConflict, asset)
	}
	if time.Now().Before(it.Auction.End) {
		return nil, fmt.Errorf("%w: the auction of %s ends at %s; settle after that", ErrConflict, asset, it.Auction.End.UTC().Format(time.RFC3339))
	}
	item, err := s.itemAddress(asset)
	if err != nil {
		return nil, err
	}
	if _, err := s.send(ctx, item, big.NewInt(onchain.OpGas), onchain.SettleBody(queryID())); err != nil {
		return nil, err
	}
	s.announce(ctx, asset)
	return s.Show(ctx, asset)
}

// Transfer gives asset to another address (no auction may be running).
func (s *Service) Transfer(ctx context.Context, asset onchain.Asset, to *address.Address) (*AssetInfo, error) {
	it, item, _, err := s.ownedItem(ctx, asset)
	if err != nil {
		return nil, err
	}
	if it.Auction != nil {
		return nil, fmt.Errorf("%w: %s is on auction; cancel (no bids) or wait for it to end first", ErrConflict, asset)
	}
	rc, err := s.send(ctx, item, big.NewInt(onchain.OpGas), onchain.TransferBody(queryID(), to))
	if err != nil {
		return nil, err
	}
	payload := fmt.Appendf(nil, `{"asset":%q,"item":%q,"to":%q}`, asset.String(), item.StringRaw(), to.StringRaw())
	if err := s.ledger.Record(ctx, journal.Entry{Kind: journal.KindTransfer, Key: "transfer:" + hex.EncodeToString(rc.TxHash),
		Counterparty: to.StringRaw(), Payload: payload}); err != nil {
		s.log.Error("journaling the transfer failed", "asset", asset, "err", err)
	}
	s.announce(ctx, asset)
	return s.Show(ctx, asset)
}

// announce tells the network that asset changed: nodes re-read it.
func (s *Service) announce(ctx context.Context, asset onchain.Asset) {
	s.learn(asset)
	if err := s.reconcile(ctx, asset); err != nil {
		s.log.Debug("reconcile after a change failed", "asset", asset, "err", err)
	}
	if err := s.publish(ctx, encodeNotice(asset)); err != nil {
		s.log.Debug("publishing a notice failed", "asset", asset, "err", err)
	}
}
