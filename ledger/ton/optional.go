package ton

import (
	"context"
	"math/big"

	"github.com/xssnick/tonutils-go/address"
)

// The interfaces below are optional: a Chain may implement them, and code
// that needs one checks with a type assertion and falls back (or says it
// cannot) when it is missing. emu and remote implement all of them.

// Head is the chain's latest block, as its backend sees it.
type Head struct {
	// Seqno counts blocks; on the emulated chain it is the number of steps.
	Seqno uint64
	// Now is the block's unix time, LT its highest logical time.
	Now uint32
	LT  uint64
	// RootHash and FileHash identify the block (32 bytes each).
	RootHash, FileHash []byte
}

// HeadReader reports the chain's latest block.
type HeadReader interface {
	Head(ctx context.Context) (*Head, error)
}

// Fees are the fees an external message would cost its destination, in
// nanoTON, by phase (toncenter's "source_fees").
type Fees struct {
	// InFwdFee is the import fee of the external message.
	InFwdFee   *big.Int
	StorageFee *big.Int
	GasFee     *big.Int
	// FwdFee is what forwarding the messages it sends costs.
	FwdFee *big.Int
}

// FeeEstimator runs an external message on a copy of its destination's
// state, changing nothing, and reports what it would cost. With
// ignoreSignature every signature check succeeds, so an unsigned order can
// be priced. ErrRejected means the contract would not accept it.
type FeeEstimator interface {
	EstimateExternal(ctx context.Context, boc []byte, ignoreSignature bool) (*Fees, error)
}

// GetMethodResult is a get-method's full outcome.
type GetMethodResult struct {
	// Stack as RunGetMethod returns it; empty when ExitCode is not 0 or 1.
	Stack    []any
	ExitCode int64
	GasUsed  int64
}

// GetMethodRunner runs a get-method and reports its exit code and gas. A
// method that ran and failed is a result with its exit code, not an error;
// an account without code is ErrNotActive.
type GetMethodRunner interface {
	RunGetMethodResult(ctx context.Context, addr *address.Address, method string, args ...any) (*GetMethodResult, error)
}

// HistoryReader reads an account's transactions newest first without
// reading the whole history: up to limit transactions with a logical time
// of at most fromLT (0: from the newest), newest first.
type HistoryReader interface {
	TransactionsBefore(ctx context.Context, addr *address.Address, fromLT uint64, limit int) ([]*Transaction, error)
}
