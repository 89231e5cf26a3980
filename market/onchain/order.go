package onchain

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/tonmesh/tonmesh/internal/edverify"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/ton/wallet"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Wallet versions DecodeBidOrder understands.
const (
	WalletV5R1 = "v5r1"
	WalletV4R2 = "v4r2"
)

const (
	v5SignedExternal = 0x7369676e // wallet v5r1's op for a signed external order
	v5ActionSendMsg  = 0x0ec3c86d // action_send_msg in an OutList
	v4r2SubwalletID  = 698983191  // the wallet_id TON apps give the first v4r2 wallet
	maxOutActions    = 255        // TON's limit on one transaction's actions
	sendModeCarryAll = 64 | 128   // modes whose value is not the message's own
	bidBodyBits      = 32 + 64
	signatureBits    = 512
	v5HeaderBits     = 4 * 32
	v4HeaderBits     = 3*32 + 8
)

// BidOrder is a bid found inside a signed wallet order: a complete external
// message anyone may relay to the chain, where it executes at most once
// (the wallet's seqno) and only until ValidUntil.
type BidOrder struct {
	// Bidder is the wallet that signed the order; Item the item it bids on.
	Bidder, Item *address.Address
	// Amount is the bid (Value - BidGas); Value what the message carries.
	Amount, Value *big.Int
	QueryID       uint64
	Seqno         uint32
	ValidUntil    time.Time
	// Wallet is WalletV5R1 or WalletV4R2; Deploys is true when the order
	// carries the wallet's state init (its first order).
	Wallet  string
	Deploys bool
	// Hash is the external message's normalised hash (TEP-467): the same
	// order relayed twice has the same hash.
	Hash []byte

	globalID  int32
	signed    []byte // the hash the wallet checks the signature against
	signature []byte
}

// Verify checks that pub is the key of the wallet Bidder (of the order's
// version, standard subwallet, on the collection's network) and that it
// signed the order. Without it a bid order proves nothing about who sent
// it; the wallet contract checks the same on chain.
func (o *BidOrder) Verify(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("market: bid order: key is %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	var (
		cfg wallet.VersionConfig
		sub uint32
	)
	switch o.Wallet {
	case WalletV5R1:
		cfg = wallet.ConfigV5R1Final{NetworkGlobalID: o.globalID, Workchain: 0}
	case WalletV4R2:
		cfg, sub = wallet.V4R2, v4r2SubwalletID
	default:
		return fmt.Errorf("market: bid order: unknown wallet version %q", o.Wallet)
	}
	addr, err := wallet.AddressFromPubKey(pub, cfg, sub)
	if err != nil {
		return fmt.Errorf("market: bid order: wallet address of key: %w", err)
	}
	if !addr.Equals(o.Bidder) {
		return fmt.Errorf("market: bid order: the key's %s wallet is %s, not the bidder %s", o.Wallet, addr.StringRaw(), o.Bidder.StringRaw())
	}
	if !edverify.Verify(pub, o.signed, o.signature) {
		return errors.New("market: bid order: signature does not verify: forged or altered")
	}
	return nil
}

// DecodeBidOrder decodes boc, bytes from the network, as a wallet v5r1 or
// v4r2 order that sends exactly one message: a bounceable bid (BidBody) on
// an item, with a value above BidGas and no state init. A v5r1 order must be
// signed for c's network. It checks the form only: Verify checks the
// signature, ReadItem whether the bid can still win. It never panics.
func DecodeBidOrder(boc []byte, c Collection) (order *BidOrder, err error) {
	ext, err := ton.ParseExternal(boc)
	if err != nil {
		return nil, fmt.Errorf("market: bid order: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			order, err = nil, fmt.Errorf("market: bid order: malformed (%v)", r)
		}
	}()
	in := ext.Msg.Msg.(*tlb.ExternalMessage)
	if in.Body == nil {
		return nil, errors.New("market: bid order: the external message has no body")
	}
	o := &BidOrder{Bidder: in.DstAddr, Hash: ext.Hash, Deploys: in.StateInit != nil, globalID: c.GlobalID}
	var msgs []outMsg
	if op, perr := in.Body.BeginParse(); perr == nil && in.Body.BitsSize() >= v5HeaderBits+2+signatureBits && op.MustLoadUInt(32) == v5SignedExternal {
		msgs, err = o.parseV5(in.Body, c.GlobalID)
	} else {
		msgs, err = o.parseV4(in.Body)
	}
	if err != nil {
		return nil, fmt.Errorf("market: bid order of %s: %w", o.Bidder.StringRaw(), err)
	}
	if len(msgs) != 1 {
		return nil, fmt.Errorf("market: bid order of %s sends %d messages; a bid order sends exactly one", o.Bidder.StringRaw(), len(msgs))
	}
	if err := o.readBid(msgs[0]); err != nil {
		return nil, fmt.Errorf("market: bid order of %s: %w", o.Bidder.StringRaw(), err)
	}
	return o, nil
}

type outMsg struct {
	mode uint8
	msg  *cell.Cell
}

// parseV5 reads op wallet_id valid_until seqno, Maybe ^OutList, a zero
// "extended actions" bit and the trailing signature.
func (o *BidOrder) parseV5(body *cell.Cell, globalID int32) ([]outMsg, error) {
	o.Wallet = WalletV5R1
	s := body.MustBeginParse()
	payload, sig, err := splitTail(s, body.BitsSize()-signatureBits)
	if err != nil {
		return nil, err
	}
	o.signed, o.signature = payload.Hash(), sig
	p := payload.MustBeginParse()
	p.MustLoadUInt(32) // op, checked by the caller
	walletID := uint32(p.MustLoadUInt(32))
	if want := (wallet.V5R1ID{NetworkGlobalID: globalID, WorkChain: 0}).Serialized(); walletID != want {
		return nil, fmt.Errorf("v5r1 order for wallet id %d, want %d: signed for another network or subwallet", walletID, want)
	}
	o.ValidUntil = time.Unix(int64(p.MustLoadUInt(32)), 0)
	o.Seqno = uint32(p.MustLoadUInt(32))
	var msgs []outMsg
	if p.MustLoadBoolBit() {
		list, err := p.LoadRef()
		if err != nil {
			return nil, fmt.Errorf("v5r1 action list: %w", err)
		}
		if msgs, err = readOutList(list); err != nil {
			return nil, err
		}
	}
	if p.MustLoadBoolBit() {
		return nil, errors.New("v5r1 order carries extended actions; a bid order only sends a message")
	}
	if p.BitsLeft() != 0 || p.RefsNum() != 0 {
		return nil, errors.New("v5r1 order has trailing data")
	}
	return msgs, nil
}

// readOutList walks an OutList: each node is ^prev and an action.
func readOutList(list *cell.Slice) ([]outMsg, error) {
	var rev []outMsg
	for depth := 0; ; depth++ {
		if list.BitsLeft() == 0 && list.RefsNum() == 0 {
			break
		}
		if depth >= maxOutActions {
			return nil, fmt.Errorf("v5r1 action list longer than %d", maxOutActions)
		}
		prev, err := list.LoadRef()
		if err != nil {
			return nil, fmt.Errorf("v5r1 action list: %w", err)
		}
		if tag := list.MustLoadUInt(32); tag != v5ActionSendMsg {
			return nil, fmt.Errorf("v5r1 action %#x is not a message send", tag)
		}
		mode := uint8(list.MustLoadUInt(8))
		msg, err := list.LoadRefCell()
		if err != nil {
			return nil, fmt.Errorf("v5r1 send action: %w", err)
		}
		if list.BitsLeft() != 0 || list.RefsNum() != 0 {
			return nil, errors.New("v5r1 action has trailing data")
		}
		rev = append(rev, outMsg{mode: mode, msg: msg})
		list = prev
	}
	msgs := make([]outMsg, len(rev))
	for i, m := range rev {
		msgs[len(rev)-1-i] = m
	}
	return msgs, nil
}

// parseV4 reads signature subwallet_id valid_until seqno op=0 and up to
// four (mode, ^message) pairs.
func (o *BidOrder) parseV4(body *cell.Cell) ([]outMsg, error) {
	o.Wallet = WalletV4R2
	s := body.MustBeginParse()
	if s.BitsLeft() < signatureBits+v4HeaderBits {
		return nil, fmt.Errorf("%d-bit body is neither a v5r1 nor a v4r2 order", s.BitsLeft())
	}
	o.signature = s.MustLoadSlice(signatureBits)
	rest := s.MustToCell()
	o.signed = rest.Hash()
	if sub := uint32(s.MustLoadUInt(32)); sub != v4r2SubwalletID {
		return nil, fmt.Errorf("v4r2 order for subwallet %d, want %d", sub, v4r2SubwalletID)
	}
	o.ValidUntil = time.Unix(int64(s.MustLoadUInt(32)), 0)
	o.Seqno = uint32(s.MustLoadUInt(32))
	if op := s.MustLoadUInt(8); op != 0 {
		return nil, fmt.Errorf("v4r2 order op %d is not a simple send", op)
	}
	var msgs []outMsg
	for s.RefsNum() > 0 {
		mode := uint8(s.MustLoadUInt(8))
		msg, err := s.LoadRefCell()
		if err != nil {
			return nil, fmt.Errorf("v4r2 message: %w", err)
		}
		msgs = append(msgs, outMsg{mode: mode, msg: msg})
	}
	if s.BitsLeft() != 0 {
		return nil, errors.New("v4r2 order has trailing data")
	}
	return msgs, nil
}

// splitTail splits s after n bits: the head (with all refs) as a cell and
// the remaining bits.
func splitTail(s *cell.Slice, n uint) (*cell.Cell, []byte, error) {
	head, err := s.LoadSlice(n)
	if err != nil {
		return nil, nil, err
	}
	b := cell.BeginCell().MustStoreSlice(head, n)
	for s.RefsNum() > 0 {
		b.MustStoreRef(s.MustLoadRef().MustToCell())
	}
	return b.EndCell(), s.MustLoadSlice(signatureBits), nil
}

// readBid checks that m is a bid message and fills the bid fields.
func (o *BidOrder) readBid(m outMsg) error {
	if m.mode&sendModeCarryAll != 0 {
		return fmt.Errorf("send mode %d carries more than the message's value; a bid names its value", m.mode)
	}
	var msg tlb.Message
	if err := tlb.LoadFromCell(&msg, m.msg.MustBeginParse()); err != nil {
		return fmt.Errorf("message: %w", err)
	}
	in, ok := msg.Msg.(*tlb.InternalMessage)
	if !ok {
		return fmt.Errorf("message is %T, want an internal message", msg.Msg)
	}
	if err := checkStdAddr("item", in.DstAddr); err != nil {
		return err
	}
	if !in.Bounce {
		return errors.New("bid message is not bounceable: a refused bid would not come back")
	}
	if in.StateInit != nil {
		return errors.New("bid message carries a state init")
	}
	if in.Body == nil || in.Body.BitsSize() != bidBodyBits || in.Body.RefsNum() != 0 {
		return errors.New("message body is not a bid")
	}
	b := in.Body.MustBeginParse()
	if op := uint32(b.MustLoadUInt(32)); op != OpBid {
		return fmt.Errorf("message op %#x is not a bid (%#x)", op, OpBid)
	}
	o.QueryID = b.MustLoadUInt(64)
	o.Item = in.DstAddr
	o.Value = new(big.Int).Set(in.Amount.Nano())
	o.Amount = new(big.Int).Sub(o.Value, big.NewInt(BidGas))
	if o.Amount.Sign() <= 0 {
		return fmt.Errorf("bid carries %s nanoTON, not more than the %d of gas", o.Value, BidGas)
	}
	return nil
}
