package channel

import (
	"context"
	"crypto/ed25519"

	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"sync"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
)

// SpaceName is the ledger space this package owns; give NewPayee
// store.Space(SpaceName).
const SpaceName = "channel"

// Keys in the space: recChannel+channel → payee's channel record,
// recVoucher+channel → latest accepted voucher (wire form). channel is the
// workchain byte and the 32-byte account hash.
const (
	recChannel = 'c'
	recVoucher = 'v'
	recVersion = 1
)

// Payee is the receiving side of channels: it tracks the channels paying
// this node, accepts vouchers for them and keeps the highest one of each
// durably. It is safe for concurrent use; vouchers for different channels
// are accepted in parallel and their writes share fsyncs (group commit).
type Payee struct {
	space    *ledger.Space
	globalID int32
	log      *slog.Logger

	mu       sync.Mutex // guards channels (the map, not the entries)
	channels map[[33]byte]*payeeChannel
}

type payeeChannel struct {
	addr     *address.Address
	payerKey ed25519.PublicKey // immutable once tracked

	// accept serialises Accept, whose durable write runs outside mu: the
	// readers of the channel (Holding, Latest, on every paid request)
	// never wait behind an fsync. latest changes only under both, after
	// its voucher is on disk.
	accept sync.Mutex

	mu        sync.Mutex     // guards below
	deposited *big.Int       // only grows
	latest    *SignedVoucher // nil until the first voucher
}

// Tracked is a channel the payee tracks, as of now.
type Tracked struct {
	Channel   *address.Address
	PayerKey  ed25519.PublicKey
	Deposited *big.Int
	// Latest is the highest accepted voucher; nil before the first.
	Latest *SignedVoucher
}

// PayeeOption configures NewPayee.
type PayeeOption func(*Payee)

// WithPayeeLogger sends the payee's logs to l.
func WithPayeeLogger(l *slog.Logger) PayeeOption { return func(p *Payee) { p.log = l } }

// NewPayee opens the payee side kept in space for the network globalID and
// reads back every tracked channel and its latest voucher.
func NewPayee(space *ledger.Space, globalID int32, opts ...PayeeOption) (*Payee, error) {
	if space == nil {
		return nil, fmt.Errorf("channel: payee needs a ledger space (store.Space(%q))", SpaceName)
	}
	p := &Payee{space: space, globalID: globalID, log: slog.New(slog.DiscardHandler), channels: make(map[[33]byte]*payeeChannel)}
	for _, o := range opts {
		o(p)
	}
	if err := p.load(); err != nil {
		return nil, err
	}
	return p, nil
}

func chanKey(a *address.Address) [33]byte {
	var k [33]byte
	k[0] = byte(int8(a.Workchain()))
	copy(k[1:], a.Data())
	return k
}

func recKey(kind byte, k [33]byte) []byte { return append([]byte{kind}, k[:]...) }

func encodeChannel(key ed25519.PublicKey, deposited *big.Int) []byte {
	d := deposited.Bytes()
	out := append([]byte{recVersion}, key...)
	out = append(out, byte(len(d)))
	return append(out, d...)
}

func decodeChannel(raw []byte) (ed25519.PublicKey, *big.Int, error) {
	if len(raw) < 2+ed25519.PublicKeySize || raw[0] != recVersion {
		return nil, nil, fmt.Errorf("channel: stored channel record is corrupt (%d bytes)", len(raw))
	}
	n := int(raw[1+ed25519.PublicKeySize])
	rest := raw[2+ed25519.PublicKeySize:]
	if n != len(rest) || n > 16 {
		return nil, nil, fmt.Errorf("channel: stored channel record is corrupt (deposit of %d bytes)", n)
	}
	return ed25519.PublicKey(append([]byte(nil), raw[1:1+ed25519.PublicKeySize]...)), new(big.Int).SetBytes(rest), nil
}

func (p *Payee) load() error {
	err := p.space.Iterate([]byte{recChannel}, func(k, v []byte) error {
		if len(k) != 34 {
			return fmt.Errorf("channel: stored channel key of %d bytes is corrupt", len(k))
		}
		key, dep, err := decodeChannel(v)
		if err != nil {
			return err
		}
		var ck [33]byte
		copy(ck[:], k[1:])
		addr := address.NewAddress(0, ck[0], append([]byte(nil), ck[1:]...))
		addr.SetBounce(true)
		p.channels[ck] = &payeeChannel{addr: addr, payerKey: key, deposited: dep}
		return nil
	})
	if err != nil {
		return fmt.Errorf("channel: read tracked channels: %w", err)
	}
	err = p.space.Iterate([]byte{recVoucher}, func(k, v []byte) error {
		sv, err := ParseSignedVoucher(v)
		if err != nil {
			return fmt.Errorf("stored voucher is corrupt: %w", err)
		}
		pc := p.channels[chanKey(sv.Channel)]
		if pc == nil || string(recKey(recVoucher, chanKey(sv.Channel))) != string(k) {
			return fmt.Errorf("stored voucher for %s has no matching channel record", sv.Channel)
		}
		if err := sv.Verify(pc.payerKey); err != nil {
			return fmt.Errorf("stored voucher for %s: %w", sv.Channel, err)
		}
		pc.latest = sv
		return nil
	})
	if err != nil {
		return fmt.Errorf("channel: read latest vouchers: %w", err)
	}
	p.log.Debug("payee channels loaded", "channels", len(p.channels))
	return nil
}

// Track starts (or refreshes) tracking the channel with params, whose
// on-chain deposit is deposited nanoTON. It is durable when it returns.
// The payee should check params.Payee is its own address before tracking.
func (p *Payee) Track(ctx context.Context, params Params, deposited *big.Int) (*address.Address, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if params.GlobalID != p.globalID {
		return nil, fmt.Errorf("%w: channel params name global ID %d, this payee is on %d", ErrWrongNetwork, params.GlobalID, p.globalID)
	}
	if deposited == nil || deposited.Sign() < 0 {
		return nil, fmt.Errorf("channel: track: deposit %v must be zero or more nanoTON", deposited)
	}
	addr, err := params.Address()
	if err != nil {
		return nil, err
	}
	k := chanKey(addr)
	p.mu.Lock()
	pc := p.channels[k]
	if pc == nil {
		pc = &payeeChannel{addr: addr, payerKey: append(ed25519.PublicKey(nil), params.PayerKey...), deposited: new(big.Int)}
		if err := p.space.Set(recKey(recChannel, k), encodeChannel(pc.payerKey, deposited)); err != nil {
			p.mu.Unlock()
			return nil, fmt.Errorf("channel: track %s: %w", addr, err)
		}
		pc.deposited.Set(deposited)
		p.channels[k] = pc
		p.mu.Unlock()
		return addr, nil
	}
	p.mu.Unlock()
	return addr, p.SetDeposited(ctx, addr, deposited)
}

// SetDeposited raises the deposit the payee accepts vouchers up to (read it
// from the chain: ReadState or Sync). A lower value is ignored: deposits
// never shrink.
func (p *Payee) SetDeposited(ctx context.Context, ch *address.Address, deposited *big.Int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pc, err := p.channel(ch)
	if err != nil {
		return err
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if deposited.Cmp(pc.deposited) <= 0 {
		return nil
	}
	if err := p.space.Set(recKey(recChannel, chanKey(ch)), encodeChannel(pc.payerKey, deposited)); err != nil {
		return fmt.Errorf("channel: store deposit of %s: %w", ch, err)
	}
	pc.deposited = new(big.Int).Set(deposited)
	return nil
}

// Sync reads channel ch's deposit from the chain and records it, after
// checking that the contract there has the payer key the payee tracks.
func (p *Payee) Sync(ctx context.Context, chain ton.Chain, ch *address.Address) error {
	pc, err := p.channel(ch)
	if err != nil {
		return err
	}
	st, err := ReadState(ctx, chain, ch)
	if err != nil {
		return err
	}
	if !st.PayerKey.Equal(pc.payerKey) || st.GlobalID != p.globalID {
		return fmt.Errorf("channel: the contract at %s has another payer key or network than tracked: refusing to trust its deposit", ch)
	}
	return p.SetDeposited(ctx, ch, st.Deposited)
}

func (p *Payee) channel(ch *address.Address) (*payeeChannel, error) {
	if ch == nil || ch.Type() != address.StdAddress || ch.BitsLen() != 256 {
		return nil, fmt.Errorf("%w: %v is not a channel address", ErrWrongChannel, ch)
	}
	p.mu.Lock()
	pc := p.channels[chanKey(ch)]
	p.mu.Unlock()
	if pc == nil {
		return nil, fmt.Errorf("%w: %s", ErrWrongChannel, ch)
	}
	return pc, nil
}

// Accept checks sv and, when it is the channel's new highest voucher,
// stores it durably and only then returns the amount it adds over the
// previous one. It refuses, storing nothing: another network
// (ErrWrongNetwork), an untracked channel (ErrWrongChannel), a bad
// signature (ErrBadSignature), a cumulative not above the latest
// (ErrStale) or above the deposit (ErrOverDeposit).
func (p *Payee) Accept(ctx context.Context, sv *SignedVoucher) (*big.Int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if sv == nil || sv.Cumulative == nil {
		return nil, fmt.Errorf("%w: empty voucher", ErrMalformed)
	}
	if sv.GlobalID != p.globalID {
		return nil, fmt.Errorf("%w: global ID %d, this payee is on %d", ErrWrongNetwork, sv.GlobalID, p.globalID)
	}
	pc, err := p.channel(sv.Channel)
	if err != nil {
		return nil, err
	}
	if err := sv.Verify(pc.payerKey); err != nil {
		return nil, fmt.Errorf("channel %s: %w", sv.Channel, err)
	}
	wire, err := sv.MarshalBinary()
	if err != nil {
		return nil, err
	}
	pc.accept.Lock()
	defer pc.accept.Unlock()
	pc.mu.Lock()
	prev := new(big.Int)
	if pc.latest != nil {
		prev = pc.latest.Cumulative
	}
	deposited := new(big.Int).Set(pc.deposited)
	pc.mu.Unlock()
	if sv.Cumulative.Cmp(prev) <= 0 {
		return nil, fmt.Errorf("%w: %s nanoTON, already holding %s for %s", ErrStale, sv.Cumulative, prev, sv.Channel)
	}
	if sv.Cumulative.Cmp(deposited) > 0 {
		return nil, fmt.Errorf("%w: %s nanoTON, %s holds %s (sync the deposit if it was topped up)", ErrOverDeposit, sv.Cumulative, sv.Channel, deposited)
	}
	if err := p.space.Set(recKey(recVoucher, chanKey(sv.Channel)), wire); err != nil {
		return nil, fmt.Errorf("channel: store voucher for %s (not accepted): %w", sv.Channel, err)
	}
	stored := &SignedVoucher{Voucher: sv.clone(), Signature: append([]byte(nil), sv.Signature...)}
	pc.mu.Lock()
	pc.latest = stored
	pc.mu.Unlock()
	return new(big.Int).Sub(sv.Cumulative, prev), nil
}

// Latest returns the highest accepted voucher of channel ch, or nil when
// none was accepted yet; ErrWrongChannel if ch is not tracked.
func (p *Payee) Latest(ch *address.Address) (*SignedVoucher, error) {
	pc, err := p.channel(ch)
	if err != nil {
		return nil, err
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.latest, nil
}

// Holding reports what channel ch holds for the payee: its deposit and
// the cumulative total of the highest accepted voucher (zero before the
// first); ErrWrongChannel if ch is not tracked. It costs one map lookup,
// unlike Channels.
func (p *Payee) Holding(ch *address.Address) (deposited, paid *big.Int, err error) {
	pc, err := p.channel(ch)
	if err != nil {
		return nil, nil, err
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	paid = new(big.Int)
	if pc.latest != nil {
		paid.Set(pc.latest.Cumulative)
	}
	return new(big.Int).Set(pc.deposited), paid, nil
}

// Channels lists the tracked channels in address order.
func (p *Payee) Channels() []Tracked {
	p.mu.Lock()
	all := make([]*payeeChannel, 0, len(p.channels))
	for _, pc := range p.channels {
		all = append(all, pc)
	}
	p.mu.Unlock()
	out := make([]Tracked, 0, len(all))
	for _, pc := range all {
		pc.mu.Lock()
		out = append(out, Tracked{
			Channel:   pc.addr.Copy(),
			PayerKey:  pc.payerKey,
			Deposited: new(big.Int).Set(pc.deposited),
			Latest:    pc.latest,
		})
		pc.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Channel.StringRaw() < out[j].Channel.StringRaw() })
	return out
}
