package wallet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/ton/wallet"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// MaxCommentBytes is the longest text comment Send accepts.
const MaxCommentBytes = 4000

// sendMode is the mode of every message a wallet sends: pay forwarding
// fees separately from the amount (1) and ignore action errors (2), as
// TON wallet apps do.
const sendMode = 3

// Receipt identifies a sent order and the transaction that executed it.
type Receipt struct {
	// MsgHash is the normalised hash of the external message (TEP-467),
	// the hash explorers show.
	MsgHash []byte
	// Seqno is the sequence number the order used.
	Seqno uint32
	// Deployed is true when this order deployed the wallet.
	Deployed bool
	// TxLT and TxHash identify the wallet's transaction that executed it.
	TxLT   uint64
	TxHash []byte
	// Fees the wallet paid for it, in nanoTON: the transaction's total fees
	// plus the forwarding fees of the messages it sent.
	Fees *big.Int
	// Sent are the messages the transaction sent (normally one).
	Sent []*ton.Message
}

// Send transfers amount nanoTON to to with a text comment ("" for none).
// The message bounces back if to is an active contract that refuses it;
// to an undeployed address it is sent non-bounceable, so the value stays
// there as it does with TON wallet apps.
func (w *Wallet) Send(ctx context.Context, to *address.Address, amount *big.Int, comment string) (*Receipt, error) {
	if err := checkDest(to); err != nil {
		return nil, err
	}
	if len(comment) > MaxCommentBytes {
		return nil, fmt.Errorf("wallet: comment is %d bytes, the limit is %d", len(comment), MaxCommentBytes)
	}
	var body *cell.Cell
	if comment != "" {
		var err error
		if body, err = wallet.CreateCommentCell(comment); err != nil {
			return nil, fmt.Errorf("wallet: encode comment: %w", err)
		}
	}
	dst, err := w.chain.Account(ctx, to)
	if err != nil {
		return nil, fmt.Errorf("wallet: read destination %s: %w", to, err)
	}
	return w.SendPayload(ctx, to, amount, body, dst.Status == ton.StatusActive, nil)
}

// SendPayload sends amount nanoTON to to with body (nil for none) and,
// when init is not nil, a state init that deploys the destination. It
// returns once the chain shows the order executed: the wallet's seqno
// went up and its transaction for the message is found; or with an error
// saying what happened. A returned ErrNotSent comes with the receipt.
func (w *Wallet) SendPayload(ctx context.Context, to *address.Address, amount *big.Int, body *cell.Cell, bounce bool, init *tlb.StateInit) (*Receipt, error) {
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	o, err := w.signOrder(ctx, to, amount, body, bounce, init)
	if err != nil {
		return nil, err
	}
	return w.SubmitOrder(ctx, o)
}

// Order is a signed wallet order that has not been submitted yet. Its BOC
// is a complete external message: anyone may relay it to the chain (the
// market gossips bids this way), and it executes at most once.
type Order struct {
	BOC        []byte
	Seqno      uint32
	ValidUntil time.Time
	Deployed   bool   // the order deploys the wallet
	afterLT    uint64 // the wallet's last transaction when it was signed
}

// SignOrder signs, without submitting, an order sending amount nanoTON to
// to with body and init as SendPayload does. Until the order executes or
// expires, another order signed by this wallet would reuse its seqno and
// one of the two would be refused: submit it before sending anything else.
func (w *Wallet) SignOrder(ctx context.Context, to *address.Address, amount *big.Int, body *cell.Cell, bounce bool, init *tlb.StateInit) (*Order, error) {
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	return w.signOrder(ctx, to, amount, body, bounce, init)
}

func (w *Wallet) signOrder(ctx context.Context, to *address.Address, amount *big.Int, body *cell.Cell, bounce bool, init *tlb.StateInit) (*Order, error) {
	if err := checkDest(to); err != nil {
		return nil, err
	}
	if amount == nil || amount.Sign() <= 0 {
		return nil, fmt.Errorf("wallet: amount must be positive, got %s nanoTON", amount)
	}
	if amount.Cmp(maxCoins) > 0 {
		return nil, fmt.Errorf("wallet: amount %s nanoTON is more than a message can carry", amount)
	}
	dst := to.Copy()
	dst.SetBounce(bounce)
	msg := &wallet.Message{Mode: sendMode, InternalMessage: &tlb.InternalMessage{
		IHRDisabled: true,
		Bounce:      bounce,
		DstAddr:     dst,
		Amount:      tlb.FromNanoTON(amount),
		Body:        body,
		StateInit:   init,
	}}
	if msg.InternalMessage.Body == nil {
		msg.InternalMessage.Body = cell.BeginCell().EndCell()
	}
	st, err := w.chain.Account(ctx, w.addr)
	if err != nil {
		return nil, fmt.Errorf("wallet: read state of %s: %w", w.addr, err)
	}
	need := new(big.Int).Add(amount, w.reserve)
	if st.Balance.Cmp(need) < 0 {
		return nil, fmt.Errorf("%w: %s holds %s TON; sending %s TON needs %s TON (amount + estimated fee %s TON)",
			ErrInsufficientBalance, w.addr, FormatTON(st.Balance), FormatTON(amount), FormatTON(need), FormatTON(w.reserve))
	}
	seqno, err := w.seqnoOf(ctx, st)
	if err != nil {
		return nil, err
	}
	deploy := st.Status != ton.StatusActive
	validUntil := w.clock().Add(w.ttl)
	ext, err := w.c.order(w.addr, seqno, validUntil, deploy, []*wallet.Message{msg})
	if err != nil {
		return nil, err
	}
	return &Order{BOC: ext.ToBOC(), Seqno: seqno, ValidUntil: validUntil, Deployed: deploy, afterLT: st.LastTxLT}, nil
}

// SubmitOrder submits o and waits for it to execute, as SendPayload does.
// An order someone else already relayed counts as submitted.
func (w *Wallet) SubmitOrder(ctx context.Context, o *Order) (*Receipt, error) {
	hash, err := w.chain.SendExternal(ctx, o.BOC)
	if errors.Is(err, ton.ErrRejected) {
		if ext, perr := ton.ParseExternal(o.BOC); perr == nil {
			if tx, ferr := w.findTx(ctx, o.afterLT, o.Seqno, ext.Hash); ferr == nil {
				return w.receipt(o, ext.Hash, tx)
			}
		}
		return nil, fmt.Errorf("wallet: %s refused order seqno %d (is another process using this wallet's key, or is the clock wrong?): %w", w.addr, o.Seqno, err)
	}
	if err != nil {
		return nil, fmt.Errorf("wallet: submit order seqno %d of %s: %w", o.Seqno, w.addr, err)
	}
	w.log.Debug("order submitted", "seqno", o.Seqno, "msg_hash", fmt.Sprintf("%x", hash))
	tx, err := w.await(ctx, o.afterLT, o.Seqno, hash, o.ValidUntil)
	if err != nil {
		return nil, err
	}
	return w.receipt(o, hash, tx)
}

func (w *Wallet) receipt(o *Order, hash []byte, tx *ton.Transaction) (*Receipt, error) {
	r := &Receipt{MsgHash: hash, Seqno: o.Seqno, Deployed: o.Deployed, TxLT: tx.LT, TxHash: tx.Hash, Sent: tx.Out}
	r.Fees = new(big.Int).Set(tx.TotalFees)
	for _, m := range tx.Out {
		r.Fees.Add(r.Fees, m.FwdFee)
	}
	if len(tx.Out) == 0 {
		return r, fmt.Errorf("%w: order seqno %d of %s (transaction lt %d): the balance did not cover amount and fees, or the message was malformed", ErrNotSent, o.Seqno, w.addr, tx.LT)
	}
	return r, nil
}

// await waits until the wallet's seqno is past seqno, then finds the
// transaction (after afterLT) whose inbound message is hash.
func (w *Wallet) await(ctx context.Context, afterLT uint64, seqno uint32, hash []byte, validUntil time.Time) (*ton.Transaction, error) {
	tick := time.NewTicker(w.poll)
	defer tick.Stop()
	for {
		st, err := w.chain.Account(ctx, w.addr)
		if err != nil {
			return nil, fmt.Errorf("wallet: order seqno %d (message %x) submitted, but reading the wallet failed: %w", seqno, hash, err)
		}
		cur, err := w.seqnoOf(ctx, st)
		if err != nil {
			return nil, fmt.Errorf("wallet: order seqno %d (message %x) submitted, but: %w", seqno, hash, err)
		}
		if cur > seqno {
			return w.findTx(ctx, afterLT, seqno, hash)
		}
		if w.clock().After(validUntil.Add(w.poll)) {
			return nil, fmt.Errorf("wallet: order seqno %d (message %x) expired at %s without reaching the chain: nothing was sent; send again",
				seqno, hash, validUntil.UTC().Format(time.RFC3339))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wallet: order seqno %d (message %x) submitted; stopped waiting for it (it may still execute until %s): %w",
				seqno, hash, validUntil.UTC().Format(time.RFC3339), ctx.Err())
		case <-tick.C:
		}
	}
}

func (w *Wallet) findTx(ctx context.Context, afterLT uint64, seqno uint32, hash []byte) (*ton.Transaction, error) {
	txs, err := w.chain.Transactions(ctx, w.addr, afterLT, 0)
	if err != nil {
		return nil, fmt.Errorf("wallet: order seqno %d executed, but reading its transaction failed: %w", seqno, err)
	}
	for _, tx := range txs {
		if tx.In != nil && tx.In.Kind == ton.ExternalIn && bytes.Equal(tx.In.Hash, hash) {
			return tx, nil
		}
	}
	return nil, fmt.Errorf("wallet: seqno %d of %s was used, but not by message %x: another process is using this wallet's key", seqno, w.addr, hash)
}

// checkDest refuses addresses a wallet cannot send to.
func checkDest(to *address.Address) error {
	if to == nil || to.IsAddrNone() {
		return errors.New("wallet: no destination address")
	}
	if to.Type() != address.StdAddress || to.BitsLen() != 256 {
		return fmt.Errorf("wallet: destination %s is not a standard account address", to)
	}
	if wc := to.Workchain(); wc != 0 && wc != -1 {
		return fmt.Errorf("wallet: destination %s is on workchain %d; TON has workchains 0 and -1", to, wc)
	}
	return nil
}

// ParseAddress reads a TON address in the user-friendly form ("EQ…",
// "UQ…", "kQ…", "0Q…", URL-safe or standard base64) or the raw form
// ("0:<64 hex digits>").
func ParseAddress(s string) (*address.Address, error) {
	if s == "" {
		return nil, errors.New("wallet: empty address: give a TON address such as UQ… or 0:<64 hex digits>")
	}
	var (
		a   *address.Address
		err error
	)
	if len(s) == 48 {
		a, err = address.ParseAddr(toURLBase64(s))
	} else {
		a, err = address.ParseRawAddr(s)
	}
	if err != nil {
		return nil, fmt.Errorf("wallet: %q is not a TON address (want a 48-character friendly address or 0:<64 hex digits>): %v", s, err)
	}
	if err := checkDest(a); err != nil {
		return nil, err
	}
	return a, nil
}

func toURLBase64(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch c {
		case '+':
			b[i] = '-'
		case '/':
			b[i] = '_'
		}
	}
	return string(b)
}
