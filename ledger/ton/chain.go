package ton

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Chain is the one interface tonmesh uses to reach a TON chain.
// Implementations are safe for concurrent use.
type Chain interface {
	// SendExternal submits a signed external-in message, serialised as a
	// BOC. It returns the message's normalised hash once the destination
	// contract has accepted it; ErrRejected means the contract refused it
	// (bad signature, stale seqno, expired) and nothing changed.
	SendExternal(ctx context.Context, boc []byte) ([]byte, error)
	// Account returns the current state of addr. A never-used address is
	// reported with StatusNonExist and a zero balance, not an error.
	Account(ctx context.Context, addr *address.Address) (*AccountState, error)
	// Transactions returns up to limit transactions of addr with a logical
	// time greater than afterLT, oldest first. limit <= 0 means no limit.
	Transactions(ctx context.Context, addr *address.Address, afterLT uint64, limit int) ([]*Transaction, error)
	// RunGetMethod runs the get-method called method on addr's current
	// state. args are pushed first to last (the first is deepest): use
	// *big.Int or Go integers, *cell.Cell, *cell.Slice, *address.Address or
	// []any for a tuple. Results come back in the order the method returns
	// them (index 0 is the first value), as *big.Int, *cell.Cell,
	// *cell.Slice, *cell.Builder, []any (tuple) or nil.
	RunGetMethod(ctx context.Context, addr *address.Address, method string, args ...any) ([]any, error)
	// GlobalID is the network's global ID (-239 mainnet, -3 testnet and emu),
	// as wallet v5r1 signs it into its messages.
	GlobalID() int32
}

// AccountStatus is the lifecycle state of an account.
type AccountStatus string

const (
	// StatusNonExist: the address has never received anything.
	StatusNonExist AccountStatus = "nonexist"
	// StatusUninit: the address holds a balance but no code yet.
	StatusUninit AccountStatus = "uninit"
	// StatusActive: the account has code and data.
	StatusActive AccountStatus = "active"
	// StatusFrozen: the account was frozen for unpaid storage.
	StatusFrozen AccountStatus = "frozen"
)

// AccountState is an account as the chain holds it now.
type AccountState struct {
	Address *address.Address
	Status  AccountStatus
	// Balance in nanoTON.
	Balance *big.Int
	// Code and Data are set only for an active account.
	Code *cell.Cell
	Data *cell.Cell
	// LastTxLT and LastTxHash identify the account's latest transaction;
	// zero and nil for an account that has none.
	LastTxLT   uint64
	LastTxHash []byte
}

// ErrRejected is returned by SendExternal when the destination contract did
// not accept the message; the chain did not change.
var ErrRejected = errors.New("ton: external message rejected by the contract")

// ErrGetMethod is returned by RunGetMethod when the method ran and failed.
type ErrGetMethod struct {
	Method   string
	ExitCode int64
}

func (e *ErrGetMethod) Error() string {
	return fmt.Sprintf("ton: get-method %q failed with exit code %d", e.Method, e.ExitCode)
}

// ErrNotActive is returned by RunGetMethod for an account without code.
var ErrNotActive = errors.New("ton: account is not active (no code): deploy it first")
