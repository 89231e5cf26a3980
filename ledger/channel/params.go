package channel

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"math"
	"time"

	contract "github.com/tonmesh/tonmesh/contracts/channel"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// MainnetGlobalID is TON mainnet's global ID; every other network's
// channel addresses carry the testnet-only flag.
const MainnetGlobalID int32 = -239

// Params are a channel's fixed terms. They, and nothing else, determine the
// channel's address: two channels between the same parties differ by ID.
type Params struct {
	// Payer deposits and receives the refund; Payee receives the payouts.
	// Both are standard workchain addresses (usually wallets).
	Payer, Payee *address.Address
	// PayerKey is the Ed25519 key that signs vouchers.
	PayerKey ed25519.PublicKey
	// GlobalID is the network's global ID (ton.Chain.GlobalID); vouchers
	// sign it so they are void on any other network.
	GlobalID int32
	// ID is a nonce chosen by the payer to tell channels apart.
	ID uint64
	// Timeout is how long after a close the payee may still redeem, in
	// whole seconds (1 s to about 136 years).
	Timeout time.Duration
}

// Validate reports what is wrong with p, if anything.
func (p Params) Validate() error {
	for _, a := range []struct {
		name string
		addr *address.Address
	}{{"payer", p.Payer}, {"payee", p.Payee}} {
		if a.addr == nil || a.addr.Type() != address.StdAddress || a.addr.BitsLen() != 256 {
			return fmt.Errorf("channel: %s %v is not a standard account address", a.name, a.addr)
		}
		if a.addr.Anycast() != nil {
			return fmt.Errorf("channel: %s %s is an anycast address; use a plain one", a.name, a.addr)
		}
	}
	if len(p.PayerKey) != ed25519.PublicKeySize {
		return fmt.Errorf("channel: payer key is %d bytes, want an Ed25519 public key of %d", len(p.PayerKey), ed25519.PublicKeySize)
	}
	if p.Timeout < time.Second || p.Timeout%time.Second != 0 || p.Timeout/time.Second > math.MaxUint32 {
		return fmt.Errorf("channel: close timeout %s must be a whole number of seconds between 1 s and %d s", p.Timeout, uint32(math.MaxUint32))
	}
	return nil
}

// code returns the compiled contract code.
func code() (*cell.Cell, error) {
	c, err := contract.Code()
	if err != nil {
		return nil, fmt.Errorf("channel: contract code: %w", err)
	}
	return c, nil
}

// CodeHash is the hash of the channel contract's code, for recognising a
// deployed channel.
func CodeHash() ([]byte, error) {
	c, err := code()
	if err != nil {
		return nil, err
	}
	return c.Hash(), nil
}

// paramsCell is the contract's params cell (see channel.fc).
func (p Params) paramsCell() (*cell.Cell, error) {
	b := cell.BeginCell()
	err := errors.Join(
		b.StoreAddr(p.Payer),
		b.StoreAddr(p.Payee),
		b.StoreSlice(p.PayerKey, 256),
		b.StoreInt(int64(p.GlobalID), 32),
		b.StoreUInt(p.ID, 64),
		b.StoreUInt(uint64(p.Timeout/time.Second), 32),
	)
	if err != nil {
		return nil, fmt.Errorf("channel: build params cell: %w", err)
	}
	return b.EndCell(), nil
}

// StateInit is the channel's code and initial data (nothing deposited,
// nothing redeemed, open). Send it with the first top-up to deploy.
func (p Params) StateInit() (*tlb.StateInit, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	pc, err := p.paramsCell()
	if err != nil {
		return nil, err
	}
	c, err := code()
	if err != nil {
		return nil, err
	}
	data := cell.BeginCell().
		MustStoreCoins(0).
		MustStoreCoins(0).
		MustStoreUInt(0, 32).
		MustStoreRef(pc).
		EndCell()
	return &tlb.StateInit{Code: c, Data: data}, nil
}

// Address is the channel's address: workchain 0, the hash of its state
// init; bounceable, and testnet-only off mainnet.
func (p Params) Address() (*address.Address, error) {
	init, err := p.StateInit()
	if err != nil {
		return nil, err
	}
	ic, err := tlb.ToCell(init)
	if err != nil {
		return nil, fmt.Errorf("channel: serialise state init: %w", err)
	}
	addr := address.NewAddress(0, 0, ic.Hash())
	addr.SetBounce(true)
	addr.SetTestnetOnly(p.GlobalID != MainnetGlobalID)
	return addr, nil
}
