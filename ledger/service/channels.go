package service

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/channel"
	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/p2p"
)

// ChannelProtocol carries channel set-up and vouchers from payer to payee.
var ChannelProtocol = p2p.ProtocolID("ledger", "channel", "1.0.0")

const (
	maxChannelMsg      = 4 << 10
	channelMsgTimeout  = 30 * time.Second
	outSpaceName       = "ledger-out"
	defaultChanTimeout = time.Hour
)

// ErrUnknownChannel is returned for a channel this node is not a party to.
var ErrUnknownChannel = errors.New("ledger: unknown channel (see `tonmesh ledger channels`)")

// ErrNotPayer is returned for a payer-only operation on a channel that pays
// this node.
var ErrNotPayer = errors.New("ledger: not the channel's payer")

// ErrChannelClosing is returned for a payment or top-up on a channel whose
// close this node has started.
var ErrChannelClosing = errors.New("ledger: channel is closing")

// channels is the payer and payee side of the node's payment channels.
type channels struct {
	out   *ledger.Space  // channels this node pays into, by raw address
	in    *ledger.Space  // the payee's space (channel.SpaceName)
	payee *channel.Payee // channels this node is paid through; set when the chain is ready
	mu    sync.Mutex     // serialises payer-side updates

	qmu    sync.Mutex
	queues map[string]*payQueue // channel (raw address) → payments waiting for a voucher
}

// outChannel is the payer's durable record of a channel it opened.
type outChannel struct {
	Params     wireParams `json:"params"`
	Peer       string     `json:"peer"`
	Deposited  string     `json:"deposited"`
	Cumulative string     `json:"cumulative"` // highest voucher signed; written before it is sent
	Announced  bool       `json:"announced"`  // the payee has acknowledged the channel
	Closing    bool       `json:"closing"`
}

// wireParams is channel.Params as JSON, on the wire and on disk.
type wireParams struct {
	Payer    string `json:"payer"`
	Payee    string `json:"payee"`
	PayerKey []byte `json:"payer_key"`
	GlobalID int32  `json:"global_id"`
	ID       uint64 `json:"id"`
	TimeoutS int64  `json:"timeout_s"`
}

func toWire(p channel.Params) wireParams {
	return wireParams{Payer: p.Payer.StringRaw(), Payee: p.Payee.StringRaw(), PayerKey: p.PayerKey,
		GlobalID: p.GlobalID, ID: p.ID, TimeoutS: int64(p.Timeout / time.Second)}
}

func (w wireParams) params() (channel.Params, error) {
	payer, err := address.ParseRawAddr(w.Payer)
	if err != nil {
		return channel.Params{}, fmt.Errorf("payer address: %w", err)
	}
	payee, err := address.ParseRawAddr(w.Payee)
	if err != nil {
		return channel.Params{}, fmt.Errorf("payee address: %w", err)
	}
	p := channel.Params{Payer: payer, Payee: payee, PayerKey: ed25519.PublicKey(w.PayerKey),
		GlobalID: w.GlobalID, ID: w.ID, Timeout: time.Duration(w.TimeoutS) * time.Second}
	return p, p.Validate()
}

// chanMsg is one request of ChannelProtocol.
type chanMsg struct {
	Op      string      `json:"op"` // "info", "open", "voucher" or "topup"
	Params  *wireParams `json:"params,omitempty"`
	Voucher []byte      `json:"voucher,omitempty"` // channel.SignedVoucher wire form
	Channel string      `json:"channel,omitempty"` // raw address (topup)
}

// chanReply answers a chanMsg.
type chanReply struct {
	Address    string `json:"address,omitempty"` // payee's wallet, raw form (info)
	GlobalID   int32  `json:"global_id,omitempty"`
	Cumulative string `json:"cumulative,omitempty"` // accepted (voucher)
	Error      string `json:"error,omitempty"`
}

// decodeChanMsg parses a request from a peer strictly.
func decodeChanMsg(b []byte) (*chanMsg, error) {
	if len(b) > maxChannelMsg {
		return nil, fmt.Errorf("channel message of %d bytes is over the limit of %d", len(b), maxChannelMsg)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m chanMsg
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode channel message: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode channel message: trailing data")
	}
	switch m.Op {
	case "info":
	case "open":
		if m.Params == nil {
			return nil, errors.New("open without params")
		}
	case "voucher":
		if len(m.Voucher) != channel.WireSize {
			return nil, fmt.Errorf("voucher of %d bytes, want %d", len(m.Voucher), channel.WireSize)
		}
	case "topup":
		if _, err := address.ParseRawAddr(m.Channel); err != nil {
			return nil, fmt.Errorf("topup channel %q: %w", m.Channel, err)
		}
	default:
		return nil, fmt.Errorf("unknown op %q", m.Op)
	}
	return &m, nil
}

// handleChannelMsg is the payee side of ChannelProtocol.
func (s *Service) handleChannelMsg(ctx context.Context, from peer.ID, raw []byte) ([]byte, error) {
	m, err := decodeChanMsg(raw)
	if err != nil {
		return nil, err // resets the stream: the sender broke the protocol
	}
	reply := chanReply{}
	if err := s.answerChannelMsg(ctx, m, &reply); err != nil {
		reply = chanReply{Error: err.Error()}
	}
	return json.Marshal(reply)
}

func (s *Service) answerChannelMsg(ctx context.Context, m *chanMsg, reply *chanReply) error {
	w, err := s.Wallet()
	if err != nil {
		return err
	}
	switch m.Op {
	case "info":
		reply.Address, reply.GlobalID = w.Address().StringRaw(), s.chain.GlobalID()
	case "open":
		p, err := m.Params.params()
		if err != nil {
			return fmt.Errorf("channel params: %w", err)
		}
		if !p.Payee.Equals(w.Address()) {
			return fmt.Errorf("channel pays %s, not this node's wallet %s", p.Payee.StringRaw(), w.Address().StringRaw())
		}
		addr, err := p.Address()
		if err != nil {
			return err
		}
		st, err := channel.ReadState(ctx, s.chain, addr)
		if err != nil {
			return fmt.Errorf("channel %s is not on chain yet: %w", addr.StringRaw(), err)
		}
		if _, err := s.ch.payee.Track(ctx, p, st.Deposited); err != nil {
			return err
		}
		s.log.Info("tracking incoming payment channel", "channel", addr.StringRaw(), "deposited", wallet.FormatTON(st.Deposited))
	case "voucher":
		sv, err := channel.ParseSignedVoucher(m.Voucher)
		if err != nil {
			return err
		}
		_, err = s.ch.payee.Accept(ctx, sv)
		if errors.Is(err, channel.ErrOverDeposit) {
			// The payer may have topped up since: read the deposit again once.
			if serr := s.ch.payee.Sync(ctx, s.chain, sv.Channel); serr == nil {
				_, err = s.ch.payee.Accept(ctx, sv)
			}
		}
		if err != nil {
			return err
		}
		s.record(ctx, journal.KindChannelVoucher, fmt.Sprintf("voucher:%s:%s", sv.Channel.StringRaw(), sv.Cumulative), sv.Cumulative, sv.Channel.StringRaw())
		reply.Cumulative = sv.Cumulative.String()
	case "topup":
		// The payer says it raised the deposit: believe the chain, not it.
		ch, _ := address.ParseRawAddr(m.Channel) // checked by decodeChanMsg
		if err := s.ch.payee.Sync(ctx, s.chain, ch); err != nil {
			return err
		}
		dep, _, _ := s.ch.payee.Holding(ch)
		s.log.Info("incoming payment channel topped up", "channel", ch.StringRaw(), "deposited", wallet.FormatTON(dep))
	}
	return nil
}

// request sends a ChannelProtocol message to p and returns its reply.
func (s *Service) request(ctx context.Context, p peer.ID, m chanMsg) (*chanReply, error) {
	raw, _ := json.Marshal(m)
	out, err := s.net.Request(ctx, p, ChannelProtocol, raw, maxChannelMsg)
	if err != nil {
		return nil, err
	}
	var r chanReply
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("peer %s answered garbage: %w", p, err)
	}
	if r.Error != "" {
		return nil, fmt.Errorf("peer %s refused: %s", p, r.Error)
	}
	return &r, nil
}

// OpenChannel deploys a channel paying payee (a peer) with deposit nanoTON,
// and tells the payee about it.
func (s *Service) OpenChannel(ctx context.Context, payee peer.ID, deposit *big.Int, timeout time.Duration) (*address.Address, error) {
	w, err := s.Wallet()
	if err != nil {
		return nil, err
	}
	info, err := s.request(ctx, payee, chanMsg{Op: "info"})
	if err != nil {
		return nil, fmt.Errorf("ask peer %s for its wallet: %w", payee, err)
	}
	if info.GlobalID != s.chain.GlobalID() {
		return nil, fmt.Errorf("peer %s is on network %d, this node on %d", payee, info.GlobalID, s.chain.GlobalID())
	}
	to, err := address.ParseRawAddr(info.Address)
	if err != nil {
		return nil, fmt.Errorf("peer %s sent a bad wallet address: %w", payee, err)
	}
	if timeout == 0 {
		timeout = defaultChanTimeout
	}
	var nonce [8]byte
	rand.Read(nonce[:])
	p := channel.Params{Payer: w.Address(), Payee: to, PayerKey: s.id.WalletKey.Public().(ed25519.PublicKey),
		GlobalID: s.chain.GlobalID(), ID: binary.BigEndian.Uint64(nonce[:]), Timeout: timeout}
	addr, err := p.Address()
	if err != nil {
		return nil, err
	}
	msg, err := p.OpenMessage(0, deposit)
	if err != nil {
		return nil, err
	}
	s.ch.mu.Lock()
	defer s.ch.mu.Unlock()
	if err := s.sendToChannel(ctx, addr, msg.Amount.Nano(), msg.Body, msg.StateInit); err != nil {
		return nil, fmt.Errorf("open channel: %w", err)
	}
	st, err := channel.ReadState(ctx, s.chain, addr)
	if err != nil {
		return nil, fmt.Errorf("channel %s did not deploy: %w", addr.StringRaw(), err)
	}
	oc := &outChannel{Params: toWire(p), Peer: payee.String(), Deposited: st.Deposited.String(), Cumulative: "0"}
	if err := s.saveOut(addr, oc); err != nil {
		return nil, err
	}
	s.record(ctx, journal.KindChannelOpen, "open:"+addr.StringRaw(), st.Deposited, to.StringRaw())
	s.announce(ctx, addr, oc)
	return addr, nil
}

// announce tells the payee about the channel; failure is retried on the next payment.
func (s *Service) announce(ctx context.Context, addr *address.Address, oc *outChannel) {
	if oc.Announced {
		return
	}
	p, err := peer.Decode(oc.Peer)
	if err == nil {
		_, err = s.request(ctx, p, chanMsg{Op: "open", Params: &oc.Params})
	}
	if err != nil {
		s.log.Warn("payee not told about the channel yet; will retry with the first voucher", "channel", addr.StringRaw(), "err", err)
		return
	}
	oc.Announced = true
	if err := s.saveOut(addr, oc); err != nil {
		s.log.Warn("saving channel state failed", "err", err)
	}
}

// TopUp adds amount nanoTON to the deposit of a channel this node pays into
// and returns the deposit the chain then holds, which Pay allows vouchers up
// to from now on. The payee is told to read the new deposit from the chain;
// if it cannot be reached it still does so on the first voucher over the old
// one.
func (s *Service) TopUp(ctx context.Context, ch *address.Address, amount *big.Int) (*big.Int, error) {
	if _, err := s.Wallet(); err != nil {
		return nil, err
	}
	if amount == nil || amount.Sign() <= 0 {
		return nil, fmt.Errorf("%w: top up %v nanoTON: the amount must be more than 0", wallet.ErrBadAmount, amount)
	}
	msg, err := channel.TopUpMessage(ch, 0, amount)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", wallet.ErrBadAmount, err)
	}
	oc, dep, err := s.topUp(ctx, ch, amount, msg)
	if err != nil {
		return nil, err
	}
	s.record(ctx, journal.KindChannelTopUp, fmt.Sprintf("topup:%s:%s", ch.StringRaw(), dep), amount, oc.Params.Payee)
	if p, err := peer.Decode(oc.Peer); err == nil && oc.Announced {
		if _, err := s.request(ctx, p, chanMsg{Op: "topup", Channel: ch.StringRaw()}); err != nil {
			s.log.Warn("payee not told about the top-up; it reads the deposit again on the first voucher over the old one", "channel", ch.StringRaw(), "err", err)
		}
	}
	return dep, nil
}

// topUp sends the top-up and stores the deposit the chain holds after it.
func (s *Service) topUp(ctx context.Context, ch *address.Address, amount *big.Int, msg *tlb.InternalMessage) (*outChannel, *big.Int, error) {
	s.ch.mu.Lock()
	defer s.ch.mu.Unlock()
	oc, err := s.loadOut(ch)
	if errors.Is(err, ErrUnknownChannel) {
		if _, _, herr := s.ch.payee.Holding(ch); herr == nil {
			return nil, nil, fmt.Errorf("%w: %s pays this node; only its payer can top it up (to pay that peer, open a channel of your own: tonmesh ledger channel open)", ErrNotPayer, ch.StringRaw())
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if oc.Closing {
		return nil, nil, fmt.Errorf("%w: %s cannot be topped up; finalize it after its timeout and open a new one", ErrChannelClosing, ch.StringRaw())
	}
	if err := s.sendToChannel(ctx, ch, msg.Amount.Nano(), msg.Body, nil); err != nil {
		return nil, nil, fmt.Errorf("top up channel: %w", err)
	}
	// The contract accepted it: the deposit grew by amount. The chain's
	// figure is preferred; it also repairs a record an earlier top-up left
	// behind (one whose verdict could not be read).
	dep, _ := new(big.Int).SetString(oc.Deposited, 10)
	dep.Add(dep, amount)
	if st, err := channel.ReadState(ctx, s.chain, ch); err == nil && st.Deposited.Cmp(dep) >= 0 {
		dep = st.Deposited
	} else if err != nil {
		s.log.Warn("channel topped up; its deposit could not be read back, counting the top-up", "channel", ch.StringRaw(), "err", err)
	}
	oc.Deposited = dep.String()
	if err := s.saveOut(ch, oc); err != nil {
		return nil, nil, err
	}
	return oc, dep, nil
}

// Redeem submits the highest voucher received on ch to the chain.
func (s *Service) Redeem(ctx context.Context, ch *address.Address) (*big.Int, error) {
	if _, err := s.Wallet(); err != nil {
		return nil, err
	}
	sv, err := s.ch.payee.Latest(ch)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownChannel, err)
	}
	if sv == nil {
		return nil, fmt.Errorf("no voucher received on channel %s yet", ch.StringRaw())
	}
	msg, err := channel.RedeemMessage(0, sv)
	if err != nil {
		return nil, err
	}
	if err := s.sendToChannel(ctx, ch, msg.Amount.Nano(), msg.Body, nil); err != nil {
		return nil, fmt.Errorf("redeem: %w", err)
	}
	s.record(ctx, journal.KindChannelRedeem, fmt.Sprintf("redeem:%s:%s", ch.StringRaw(), sv.Cumulative), sv.Cumulative, ch.StringRaw())
	return sv.Cumulative, nil
}

// CloseChannel starts the close timeout of a channel this node pays into.
func (s *Service) CloseChannel(ctx context.Context, ch *address.Address) error {
	err := s.payerOp(ctx, ch, channel.CloseMessage(ch, 0).Body, func(oc *outChannel) { oc.Closing = true })
	if err == nil {
		s.record(ctx, journal.KindChannelClose, "close:"+ch.StringRaw(), nil, ch.StringRaw())
	}
	return err
}

// FinalizeChannel refunds the rest of a closed channel after its timeout.
func (s *Service) FinalizeChannel(ctx context.Context, ch *address.Address) error {
	return s.payerOp(ctx, ch, channel.FinalizeMessage(ch, 0).Body, nil)
}

func (s *Service) payerOp(ctx context.Context, ch *address.Address, body *cell.Cell, update func(*outChannel)) error {
	if _, err := s.Wallet(); err != nil {
		return err
	}
	s.ch.mu.Lock()
	defer s.ch.mu.Unlock()
	oc, err := s.loadOut(ch)
	if err != nil {
		return err
	}
	if err := s.sendToChannel(ctx, ch, big.NewInt(channel.OpValue), body, nil); err != nil {
		return err
	}
	if update != nil {
		update(oc)
		return s.saveOut(ch, oc)
	}
	return nil
}

// sendToChannel sends body to the channel contract from the node's wallet
// and reports the contract's verdict: a wallet transaction that succeeded
// says nothing about whether the contract accepted the message.
func (s *Service) sendToChannel(ctx context.Context, ch *address.Address, value *big.Int, body *cell.Cell, init *tlb.StateInit) error {
	w, err := s.Wallet()
	if err != nil {
		return err
	}
	rc, err := w.SendPayload(ctx, ch, value, body, init == nil, init)
	if err != nil {
		return err
	}
	if len(rc.Sent) == 0 {
		return fmt.Errorf("the wallet sent no message to %s", ch.StringRaw())
	}
	txs, err := s.chain.Transactions(ctx, ch, rc.TxLT, 0)
	if err != nil {
		return err
	}
	for _, tx := range txs {
		if tx.In != nil && bytes.Equal(tx.In.Hash, rc.Sent[0].Hash) {
			if !tx.Success {
				return fmt.Errorf("%w: the channel contract refused the message: exit code %d (%s)", ErrChannelRefused, tx.ExitCode, exitMeaning(channel.ExitCode(tx.ExitCode)))
			}
			return nil
		}
	}
	return fmt.Errorf("the channel %s has no transaction for the message yet", ch.StringRaw())
}

// ErrChannelRefused is returned when the channel contract refused a message.
var ErrChannelRefused = errors.New("ledger: refused on chain")

func exitMeaning(c channel.ExitCode) string {
	switch c {
	case channel.ExitNotPayer:
		return "only the payer may do this"
	case channel.ExitBadSignature:
		return "the voucher's signature is not the payer's"
	case channel.ExitWrongChannel:
		return "the voucher is for another channel"
	case channel.ExitWrongNetwork:
		return "the voucher is for another network"
	case channel.ExitStale:
		return "the voucher is not higher than what was already redeemed"
	case channel.ExitOverDeposit:
		return "the voucher is over the deposit"
	case channel.ExitClosing:
		return "the channel is already closing"
	case channel.ExitTooEarly:
		return "the close timeout has not passed yet"
	case channel.ExitNotClosing:
		return "the channel was not closed first"
	case channel.ExitExpired:
		return "the close timeout has passed: too late to redeem"
	case channel.ExitLowValue:
		return "too little TON attached"
	}
	return "see contracts/channel/channel.fc"
}

func (s *Service) loadOut(ch *address.Address) (*outChannel, error) {
	raw, err := s.ch.out.Get([]byte(ch.StringRaw()))
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, fmt.Errorf("%w: this node did not open %s", ErrUnknownChannel, ch.StringRaw())
	}
	if err != nil {
		return nil, err
	}
	var oc outChannel
	if err := json.Unmarshal(raw, &oc); err != nil {
		return nil, fmt.Errorf("channel record %s is corrupt: %w", ch.StringRaw(), err)
	}
	return &oc, nil
}

func (s *Service) saveOut(ch *address.Address, oc *outChannel) error {
	raw, _ := json.Marshal(oc)
	return s.ch.out.Set([]byte(ch.StringRaw()), raw)
}

// ChannelView is a payment channel as the API shows it.
type ChannelView struct {
	ID           string     `json:"id"`   // the channel contract's address (friendly form)
	Role         string     `json:"role"` // "payer" or "payee"
	Counterparty string     `json:"counterparty"`
	Peer         string     `json:"peer,omitempty"`
	Deposited    Amount     `json:"deposited"`
	Paid         Amount     `json:"paid"` // highest voucher: signed (payer) or received (payee)
	Redeemed     Amount     `json:"redeemed"`
	Status       string     `json:"status"` // open, closing or closed
	Deadline     *time.Time `json:"deadline,omitempty"`
}

// Channels lists every channel this node pays into or is paid through, with
// the chain's view of each.
func (s *Service) Channels(ctx context.Context) ([]ChannelView, error) {
	if _, err := s.Wallet(); err != nil {
		return nil, err
	}
	out := []ChannelView{}
	err := s.ch.out.Iterate(nil, func(k, v []byte) error {
		var oc outChannel
		if err := json.Unmarshal(v, &oc); err != nil {
			return fmt.Errorf("channel record %s is corrupt: %w", k, err)
		}
		ch, err := address.ParseRawAddr(string(k))
		if err != nil {
			return err
		}
		paid, _ := new(big.Int).SetString(oc.Cumulative, 10)
		cv := ChannelView{Role: "payer", Peer: oc.Peer, Paid: amount(paid)}
		if payee, err := address.ParseRawAddr(oc.Params.Payee); err == nil {
			cv.Counterparty = s.friendly(payee)
		}
		out = append(out, s.withChainState(ctx, ch, cv))
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, t := range s.ch.payee.Channels() {
		cv := ChannelView{Role: "payee", Paid: amount(nil)}
		if t.Latest != nil {
			cv.Paid = amount(t.Latest.Cumulative)
		}
		out = append(out, s.withChainState(ctx, t.Channel, cv))
	}
	return out, nil
}

func (s *Service) withChainState(ctx context.Context, ch *address.Address, cv ChannelView) ChannelView {
	cv.ID = s.friendly(ch)
	cv.Status = "closed"
	st, err := channel.ReadState(ctx, s.chain, ch)
	if err != nil {
		return cv
	}
	cv.Deposited, cv.Redeemed, cv.Status = amount(st.Deposited), amount(st.Redeemed), "open"
	if cv.Role == "payee" {
		cv.Counterparty = s.friendly(st.Payer)
	}
	if st.Closing() {
		d := st.Deadline()
		cv.Status, cv.Deadline = "closing", &d
	}
	return cv
}

// Incoming reports an incoming channel as this node, its payee, holds it:
// the deposit and the highest voucher total received (zero before the
// first). ErrUnknownChannel if ch pays someone else or was never announced.
func (s *Service) Incoming(ch *address.Address) (deposited, paid *big.Int, err error) {
	if _, err := s.Wallet(); err != nil {
		return nil, nil, err
	}
	deposited, paid, err = s.ch.payee.Holding(ch)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s does not pay this node", ErrUnknownChannel, ch.StringRaw())
	}
	return deposited, paid, nil
}
