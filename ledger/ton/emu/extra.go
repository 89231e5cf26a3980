package emu

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm"
)

var (
	_ ton.HeadReader      = (*Chain)(nil)
	_ ton.FeeEstimator    = (*Chain)(nil)
	_ ton.GetMethodRunner = (*Chain)(nil)
	_ ton.HistoryReader   = (*Chain)(nil)
)

// Head implements ton.HeadReader: one block per step. The block hashes are
// derived from the chain's state (global ID, step, logical and unix time),
// so they change with every step and are the same after a reopen.
func (c *Chain) Head(ctx context.Context) (*ton.Head, error) {
	c.mu.Lock()
	m := c.meta
	c.mu.Unlock()
	h := sha256.New()
	h.Write([]byte("tonmesh/emu/block"))
	_ = binary.Write(h, binary.BigEndian, c.globalID)
	h.Write(m.encode())
	root := h.Sum(nil)
	file := sha256.Sum256(append([]byte("tonmesh/emu/file"), root...))
	return &ton.Head{Seqno: m.steps, Now: m.now, LT: m.lt, RootHash: root, FileHash: file[:]}, nil
}

// EstimateExternal implements ton.FeeEstimator: the message's transaction
// runs on the destination's current state in a block that is never
// committed.
func (c *Chain) EstimateExternal(ctx context.Context, boc []byte, ignoreSignature bool) (*ton.Fees, error) {
	ext, err := ton.ParseExternal(boc)
	if err != nil {
		return nil, err
	}
	msg, err := tvm.PrepareParsedMessage(ext.Cell, ext.Msg)
	if err != nil {
		return nil, fmt.Errorf("emu: external message: %w", err)
	}
	dst := keyOf(ext.Msg.AsExternalIn().DstAddr)
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.newStep()
	if err != nil {
		return nil, err
	}
	acc, err := c.account(st, dst)
	if err != nil {
		return nil, err
	}
	res, err := c.vm.EmulateTransaction(st.block, acc.prepared, msg, tvm.TransactionOptions{
		LogicalTime:                 int64(st.blockLT),
		AccountStorageStat:          acc.stat,
		SignatureCheckAlwaysSucceed: ignoreSignature,
	})
	if err != nil {
		return nil, fmt.Errorf("emu: estimate message to %s: %w", dst.address(), err)
	}
	if res.TransactionCell == nil {
		return nil, fmt.Errorf("%w: %s would refuse it (exit code %d)", ton.ErrRejected, dst.address(), res.ExitCode)
	}
	tx, err := res.ParseTransaction()
	if err != nil {
		return nil, fmt.Errorf("emu: estimate: %w", err)
	}
	return feesOf(tx), nil
}

// feesOf splits a transaction's total fees by phase: what is left after
// storage, gas and the action phase is the import fee.
func feesOf(tx *tlb.Transaction) *ton.Fees {
	f := &ton.Fees{InFwdFee: new(big.Int), StorageFee: new(big.Int), GasFee: new(big.Int), FwdFee: new(big.Int)}
	d, ok := tx.Description.(tlb.TransactionDescriptionOrdinary)
	if !ok {
		return f
	}
	if d.StoragePhase != nil {
		f.StorageFee.Set(d.StoragePhase.StorageFeesCollected.Nano())
	}
	if vmPhase, ok := d.ComputePhase.Phase.(tlb.ComputePhaseVM); ok {
		f.GasFee.Set(vmPhase.GasFees.Nano())
	}
	actionFees := new(big.Int)
	if d.ActionPhase != nil {
		if d.ActionPhase.TotalFwdFees != nil {
			f.FwdFee.Set(d.ActionPhase.TotalFwdFees.Nano())
		}
		if d.ActionPhase.TotalActionFees != nil {
			actionFees.Set(d.ActionPhase.TotalActionFees.Nano())
		}
	}
	f.InFwdFee.Sub(tx.TotalFees.Coins.Nano(), f.StorageFee)
	f.InFwdFee.Sub(f.InFwdFee, f.GasFee)
	f.InFwdFee.Sub(f.InFwdFee, actionFees)
	if f.InFwdFee.Sign() < 0 {
		f.InFwdFee.SetInt64(0)
	}
	return f
}

// TransactionsBefore implements ton.HistoryReader: it walks the store
// backwards from fromLT and reads only the transactions it returns.
func (c *Chain) TransactionsBefore(ctx context.Context, addr *address.Address, fromLT uint64, limit int) ([]*ton.Transaction, error) {
	if err := checkAddr(addr); err != nil {
		return nil, err
	}
	k := keyOf(addr)
	var from []byte
	if fromLT != 0 {
		from = txKey(k, fromLT)
	}
	return c.readTxs(ctx, addr, limit, func(fn func(key, value []byte) error) error {
		return c.space.IterateReverse(txPrefix(k), from, fn)
	})
}
