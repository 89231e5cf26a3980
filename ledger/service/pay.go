package service

import (
	"context"
	"fmt"
	"math/big"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/ledger/channel"
	"github.com/tonmesh/tonmesh/ledger/wallet"
)

// Payments on one channel are committed in groups, as Pebble commits
// writes: the first caller to find the channel idle becomes the sender;
// whoever arrives while it signs, stores and delivers a voucher queues,
// and the sender's next round covers every queued payment with one
// voucher (vouchers are cumulative), one synced write and one round trip
// to the payee. A voucher is durable before it leaves, and each caller
// returns only once the voucher that covers its payment was delivered (or
// failed), so concurrency changes the number of vouchers, never what
// each caller is told.

// payQueue is the payments waiting on one channel.
type payQueue struct {
	waiting []*payment
	sending bool
}

// payment is one Pay call waiting for its voucher.
type payment struct {
	amount *big.Int
	done   chan struct{}
	cum    *big.Int // the cumulative total of the voucher that covers it
	err    error
}

func (p *payment) finish(cum *big.Int, err error) {
	p.cum, p.err = cum, err
	close(p.done)
}

// Pay pays amount more on channel ch: it signs a voucher whose cumulative
// total includes it, stores the voucher durably and delivers it to the
// payee, and returns that total. Concurrent payments on one channel share
// a voucher. A payment that would bring the channel over its deposit
// fails with wallet.ErrInsufficientBalance and changes nothing.
//
// Once queued, a payment goes out even if ctx ends meanwhile (the voucher
// may cover other callers' payments too); the wait for it is bounded by
// the channel protocol's timeout.
func (s *Service) Pay(ctx context.Context, ch *address.Address, amount *big.Int) (*big.Int, error) {
	if _, err := s.Wallet(); err != nil {
		return nil, err
	}
	if amount.Sign() <= 0 {
		return nil, fmt.Errorf("ledger: pay %s nanoTON: the amount must be positive", amount)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := &payment{amount: new(big.Int).Set(amount), done: make(chan struct{})}
	key := ch.StringRaw()
	s.ch.qmu.Lock()
	if s.ch.queues == nil {
		s.ch.queues = make(map[string]*payQueue)
	}
	q := s.ch.queues[key]
	if q == nil {
		q = &payQueue{}
		s.ch.queues[key] = q
	}
	q.waiting = append(q.waiting, p)
	if q.sending {
		s.ch.qmu.Unlock()
		<-p.done
		return p.cum, p.err
	}
	q.sending = true
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), channelMsgTimeout)
	defer cancel()
	for len(q.waiting) > 0 {
		round := q.waiting
		q.waiting = nil
		s.ch.qmu.Unlock()
		s.payRound(sendCtx, ch, round)
		s.ch.qmu.Lock()
	}
	q.sending = false
	delete(s.ch.queues, key)
	s.ch.qmu.Unlock()
	<-p.done
	return p.cum, p.err
}

// payRound covers the payments of one round that fit in the deposit with
// one voucher, and refuses the others.
func (s *Service) payRound(ctx context.Context, ch *address.Address, round []*payment) {
	fail := func(ps []*payment, err error) {
		for _, p := range ps {
			p.finish(nil, err)
		}
	}
	s.ch.mu.Lock()
	oc, err := s.loadOut(ch)
	if err == nil && oc.Closing {
		err = fmt.Errorf("%w: %s: open a new one to pay", ErrChannelClosing, ch.StringRaw())
	}
	if err != nil {
		s.ch.mu.Unlock()
		fail(round, err)
		return
	}
	cum, _ := new(big.Int).SetString(oc.Cumulative, 10)
	dep, _ := new(big.Int).SetString(oc.Deposited, 10)
	var covered []*payment
	for _, p := range round {
		next := new(big.Int).Add(cum, p.amount)
		if next.Cmp(dep) > 0 {
			p.finish(nil, fmt.Errorf("%w: paying %s TON would bring the channel to %s TON, over its deposit of %s TON",
				wallet.ErrInsufficientBalance, wallet.FormatTON(p.amount), wallet.FormatTON(next), wallet.FormatTON(dep)))
			continue
		}
		cum = next
		covered = append(covered, p)
	}
	if len(covered) == 0 {
		s.ch.mu.Unlock()
		return
	}
	wire, err := s.signVoucher(ch, oc, cum)
	if err == nil {
		s.announce(ctx, ch, oc)
	}
	s.ch.mu.Unlock()
	if err != nil {
		fail(covered, err)
		return
	}
	if err := s.deliverVoucher(ctx, ch, oc, wire); err != nil {
		fail(covered, fmt.Errorf("deliver voucher for %s TON (signed and kept; the next payment includes it): %w", wallet.FormatTON(cum), err))
		return
	}
	for _, p := range covered {
		p.finish(cum, nil)
	}
}

// signVoucher signs the voucher for cumulative total cum and stores it as
// the channel's highest before it leaves: a crash after sending must not
// let the next voucher reuse a lower total. s.ch.mu is held.
func (s *Service) signVoucher(ch *address.Address, oc *outChannel, cum *big.Int) ([]byte, error) {
	sv, err := channel.Voucher{GlobalID: oc.Params.GlobalID, Channel: ch, Cumulative: cum}.Sign(s.id.WalletKey)
	if err != nil {
		return nil, err
	}
	wire, err := sv.MarshalBinary()
	if err != nil {
		return nil, err
	}
	oc.Cumulative = cum.String()
	if err := s.saveOut(ch, oc); err != nil {
		return nil, err
	}
	return wire, nil
}

func (s *Service) deliverVoucher(ctx context.Context, ch *address.Address, oc *outChannel, wire []byte) error {
	p, err := peer.Decode(oc.Peer)
	if err != nil {
		return fmt.Errorf("channel %s has no payee peer: %w", ch.StringRaw(), err)
	}
	_, err = s.request(ctx, p, chanMsg{Op: "voucher", Voucher: wire})
	return err
}
