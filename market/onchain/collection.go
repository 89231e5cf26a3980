package onchain

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	contract "github.com/tonmesh/tonmesh/contracts/market"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// MainnetGlobalID is TON mainnet's global ID; every other network's
// market addresses carry the testnet-only flag.
const MainnetGlobalID int32 = -239

// Defaults of a collection's terms.
const (
	// DefaultFeePercent is the network fee taken from a winning bid.
	DefaultFeePercent = 5
	// DefaultNumberPriceNano is the fixed price of a random number: 9 TON.
	DefaultNumberPriceNano = 9_000_000_000
)

// maxCoinsBits bounds an amount a message can carry (Coins: 120 bits).
const maxCoinsBits = 120

// Collection is a network's market collection as deployed: its terms
// at deploy time, which, with the compiled code, determine its address and
// every item's address.
type Collection struct {
	// Registry is the address (a wallet) that mints, sets the price and the
	// fee, and receives fees and number sales.
	Registry *address.Address
	// GlobalID is the network's global ID (ton.Chain.GlobalID).
	GlobalID int32
	// FeePercent is the network fee on auction results, 1 to 100; 0 means
	// DefaultFeePercent. Items carry the value in force when minted.
	FeePercent uint8
	// NumberPrice is the initial price of a random number in nanoTON; nil
	// means DefaultNumberPriceNano. The registry may change it later
	// (SetPriceBody); CollectionState has the current one.
	NumberPrice *big.Int
}

func (c Collection) feePercent() uint8 {
	if c.FeePercent == 0 {
		return DefaultFeePercent
	}
	return c.FeePercent
}

func (c Collection) numberPrice() *big.Int {
	if c.NumberPrice == nil {
		return big.NewInt(DefaultNumberPriceNano)
	}
	return c.NumberPrice
}

// Validate reports what is wrong with c, if anything.
func (c Collection) Validate() error {
	if err := checkStdAddr("registry", c.Registry); err != nil {
		return err
	}
	if c.FeePercent > 100 {
		return fmt.Errorf("market: fee %d%% is more than 100%%", c.FeePercent)
	}
	if p := c.numberPrice(); p.Sign() < 0 || p.BitLen() > maxCoinsBits {
		return fmt.Errorf("market: number price %s nanoTON must be zero or more and below 2^120", p)
	}
	return nil
}

func checkStdAddr(what string, a *address.Address) error {
	if a == nil || a.Type() != address.StdAddress || a.BitsLen() != 256 {
		return fmt.Errorf("market: %s %v is not a standard account address", what, a)
	}
	if a.Anycast() != nil {
		return fmt.Errorf("market: %s %s is an anycast address; use a plain one", what, a)
	}
	if wc := a.Workchain(); wc != 0 && wc != -1 {
		return fmt.Errorf("market: %s %s is on workchain %d; use workchain 0 or -1", what, a, wc)
	}
	return nil
}

// StateInit is the collection's code and initial data. Deploy it with any
// message (a plain transfer will do: the collection keeps the value for
// its storage fees).
func (c Collection) StateInit() (*tlb.StateInit, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	code, err := contract.CollectionCode()
	if err != nil {
		return nil, fmt.Errorf("market: collection code: %w", err)
	}
	itemCode, err := contract.ItemCode()
	if err != nil {
		return nil, fmt.Errorf("market: item code: %w", err)
	}
	b := cell.BeginCell()
	err = errors.Join(
		b.StoreAddr(c.Registry),
		b.StoreInt(int64(c.GlobalID), 32),
		b.StoreUInt(uint64(c.feePercent()), 8),
		b.StoreBigCoins(c.numberPrice()),
		b.StoreRef(itemCode),
	)
	if err != nil {
		return nil, fmt.Errorf("market: build collection data: %w", err)
	}
	return &tlb.StateInit{Code: code, Data: b.EndCell()}, nil
}

// Address is the collection's address: workchain 0, the hash of its state
// init; bounceable, and testnet-only off mainnet.
func (c Collection) Address() (*address.Address, error) {
	init, err := c.StateInit()
	if err != nil {
		return nil, err
	}
	return c.addressOf(init)
}

func (c Collection) addressOf(init *tlb.StateInit) (*address.Address, error) {
	ic, err := tlb.ToCell(init)
	if err != nil {
		return nil, fmt.Errorf("market: serialise state init: %w", err)
	}
	addr := address.NewAddress(0, 0, ic.Hash())
	addr.SetBounce(true)
	addr.SetTestnetOnly(c.GlobalID != MainnetGlobalID)
	return addr, nil
}

// ItemStateInit is the state init of a's item: the item code and data
// holding only the index and the collection. The collection sends it with
// the mint; nobody else needs to.
func (c Collection) ItemStateInit(a Asset) (*tlb.StateInit, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	coll, err := c.Address()
	if err != nil {
		return nil, err
	}
	code, err := contract.ItemCode()
	if err != nil {
		return nil, fmt.Errorf("market: item code: %w", err)
	}
	b := cell.BeginCell()
	err = errors.Join(
		b.StoreBigUInt(a.Index(), 256),
		b.StoreAddr(coll),
		b.StoreUInt(0, 1),
	)
	if err != nil {
		return nil, fmt.Errorf("market: build item data: %w", err)
	}
	return &tlb.StateInit{Code: code, Data: b.EndCell()}, nil
}

// ItemAddress is the address of a's item (deployed or not).
func (c Collection) ItemAddress(a Asset) (*address.Address, error) {
	init, err := c.ItemStateInit(a)
	if err != nil {
		return nil, err
	}
	return c.addressOf(init)
}

// CollectionState is a deployed collection as the chain holds it now.
type CollectionState struct {
	Address  *address.Address
	Registry *address.Address
	GlobalID int32
	// FeePercent and NumberPrice (nanoTON) are the current terms.
	FeePercent  uint8
	NumberPrice *big.Int
	// ItemCodeHash is the hash of the item code the collection deploys.
	ItemCodeHash []byte
	// Balance in nanoTON.
	Balance *big.Int
}

// ReadCollection reads the collection at addr through its
// get_collection_params get-method. A collection not deployed fails with
// ton.ErrNotActive.
func ReadCollection(ctx context.Context, chain ton.Chain, addr *address.Address) (*CollectionState, error) {
	acct, err := chain.Account(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("market: read account %s: %w", addr, err)
	}
	res, err := chain.RunGetMethod(ctx, addr, "get_collection_params")
	if err != nil {
		return nil, fmt.Errorf("market: read collection %s: %w", addr, err)
	}
	if len(res) != 5 {
		return nil, fmt.Errorf("market: %s returned %d values from get_collection_params, want 5: is it a market collection?", addr, len(res))
	}
	registry, err := addrOf(res[0])
	if err != nil {
		return nil, fmt.Errorf("market: collection %s: registry: %w", addr, err)
	}
	ints, err := intsOf(res[1:])
	if err != nil {
		return nil, fmt.Errorf("market: collection %s: get_collection_params: %w", addr, err)
	}
	if ints[3].Sign() < 0 || ints[3].BitLen() > 256 {
		return nil, fmt.Errorf("market: collection %s: item code hash %s is not a uint256", addr, ints[3])
	}
	hash := make([]byte, 32)
	ints[3].FillBytes(hash)
	return &CollectionState{
		Address:      addr,
		Registry:     registry,
		GlobalID:     int32(ints[0].Int64()),
		FeePercent:   uint8(ints[1].Uint64()),
		NumberPrice:  ints[2],
		ItemCodeHash: hash,
		Balance:      acct.Balance,
	}, nil
}

// addrOf reads an address returned by a get-method; addr_none is nil.
func addrOf(v any) (*address.Address, error) {
	s, ok := v.(*cell.Slice)
	if !ok {
		return nil, fmt.Errorf("got %T, want an address slice", v)
	}
	a, err := s.Copy().LoadAddr()
	if err != nil {
		return nil, err
	}
	if a.IsAddrNone() {
		return nil, nil
	}
	return a, nil
}

// intsOf checks that every value is an integer.
func intsOf(vals []any) ([]*big.Int, error) {
	out := make([]*big.Int, len(vals))
	for i, v := range vals {
		n, ok := v.(*big.Int)
		if !ok {
			return nil, fmt.Errorf("value %d is %T, want an integer", i, v)
		}
		out[i] = n
	}
	return out, nil
}
