package compute

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/wallet"
)

// channelKey is where the channel this node pays payee through is kept.
func channelKey(payee peer.ID) []byte { return []byte("pay/" + payee.String()) }

// clientState holds the payer side of this node's channels (to proxies as
// a client, to workers as a proxy): one open channel per payee.
type clientState struct {
	mu    sync.Mutex
	locks map[peer.ID]*sync.Mutex // serialises opening a channel per payee
	// open caches the store's "pay/<payee>" entries, read or written
	// under the payee's lock: the channel is looked up on every request.
	open map[peer.ID]*address.Address

	forwarded atomic.Uint64 // requests whose envelope sealed ahead the proxy forwarded
}

func (c *clientState) init() {
	c.locks = make(map[peer.ID]*sync.Mutex)
	c.open = make(map[peer.ID]*address.Address)
}

// cached returns the channel to payee remembered in memory, if any.
func (c *clientState) cached(payee peer.ID) *address.Address {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open[payee]
}

// remember keeps ch as the channel to payee once it is in the store.
func (c *clientState) remember(payee peer.ID, ch *address.Address) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.open[payee] = ch
}

func (c *clientState) lock(p peer.ID) func() {
	c.mu.Lock()
	l := c.locks[p]
	if l == nil {
		l = new(sync.Mutex)
		c.locks[p] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// channelTo returns the channel this node pays payee through, opening one
// with Config.ChannelDeposit on first use.
func (s *Service) channelTo(ctx context.Context, payee peer.ID) (*address.Address, error) {
	unlock := s.client.lock(payee)
	defer unlock()
	return s.channelLocked(ctx, payee, false)
}

func (s *Service) channelLocked(ctx context.Context, payee peer.ID, fresh bool) (*address.Address, error) {
	if !fresh {
		if ch := s.client.cached(payee); ch != nil {
			return ch, nil
		}
		raw, err := s.space.Get(channelKey(payee))
		if err == nil {
			ch, perr := address.ParseRawAddr(string(raw))
			if perr == nil {
				s.client.remember(payee, ch)
				return ch, nil
			}
			s.log.Warn("stored payment channel address is corrupt; opening a new channel", "payee", payee, "err", perr)
		} else if !errors.Is(err, ledger.ErrNotFound) {
			return nil, fmt.Errorf("compute: read the channel to %s: %w", payee, err)
		}
	}
	ch, err := s.pay.OpenChannel(ctx, payee, s.cfg.ChannelDeposit, 0)
	if err != nil {
		return nil, fmt.Errorf("compute: open a payment channel to %s with %s nanoTON (compute.channel_deposit; fund the wallet first): %w", payee, s.cfg.ChannelDeposit, err)
	}
	if err := s.space.Set(channelKey(payee), []byte(ch.StringRaw())); err != nil {
		return nil, fmt.Errorf("compute: remember the channel to %s: %w", payee, err)
	}
	s.client.remember(payee, ch)
	s.log.Info("payment channel opened", "payee", payee, "channel", ch.StringRaw(), "deposit", s.cfg.ChannelDeposit)
	return ch, nil
}

// payOn pays amount to payee on ch; when ch cannot take it (its deposit is
// spent) it opens a new channel and pays there. It returns the channel
// used and its new cumulative total (nil when amount is zero: no voucher).
func (s *Service) payOn(ctx context.Context, payee peer.ID, ch *address.Address, amount *big.Int) (*address.Address, *big.Int, error) {
	if amount.Sign() == 0 {
		return ch, nil, nil // nothing to sign
	}
	cum, err := s.pay.Pay(ctx, ch, amount)
	if err == nil {
		return ch, cum, nil
	}
	if !errors.Is(err, wallet.ErrInsufficientBalance) {
		return nil, nil, err
	}
	if amount.Cmp(s.cfg.ChannelDeposit) > 0 {
		return nil, nil, fmt.Errorf("pay %s nanoTON: more than a whole channel deposit (compute.channel_deposit): %w", amount, err)
	}
	s.log.Info("payment channel cannot take the payment; opening a new one", "payee", payee, "channel", ch.StringRaw(), "err", err)
	unlock := s.client.lock(payee)
	fresh, oerr := s.channelLocked(ctx, payee, true)
	unlock()
	if oerr != nil {
		return nil, nil, fmt.Errorf("pay %s nanoTON: %w (and a new channel failed: %w)", amount, err, oerr)
	}
	cum, err = s.pay.Pay(ctx, fresh, amount)
	if err != nil {
		return nil, nil, err
	}
	return fresh, cum, nil
}
