package emu

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

const (
	// ltAlign is the logical-time distance between blocks, as on TON.
	ltAlign = 1_000_000
	// maxTxPerStep bounds one step's cascade of internal messages; a
	// contract loop longer than this fails the step instead of hanging.
	maxTxPerStep = 10_000
)

// step is the state of one block being executed: accounts it changed and
// transactions it produced, none of it visible until commit.
type step struct {
	now      uint32
	block    *tvm.BlockContext
	blockLT  uint64
	accounts map[acctKey]*accountEntry
	txs      []stepTx
	endLT    uint64
}

type stepTx struct {
	acct acctKey
	lt   uint64
	cell *cell.Cell
}

// pending is an internal message waiting in the step's queue.
type pending struct {
	msg *tvm.PreparedMessage
	dst acctKey
	lt  uint64 // created_lt
	seq int    // tie-break: order of creation
}

type queue []*pending

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].lt != q[j].lt {
		return q[i].lt < q[j].lt
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*pending)) }
func (q *queue) Pop() any {
	old := *q
	p := old[len(old)-1]
	*q = old[:len(old)-1]
	return p
}

// SendExternal implements ton.Chain: it executes the message and everything
// it causes as one step, and returns the message's normalised hash.
func (c *Chain) SendExternal(ctx context.Context, boc []byte) ([]byte, error) {
	ext, err := ton.ParseExternal(boc)
	if err != nil {
		return nil, err
	}
	msg, err := tvm.PrepareParsedMessage(ext.Cell, ext.Msg)
	if err != nil {
		return nil, fmt.Errorf("emu: external message: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dst := ext.Msg.AsExternalIn().DstAddr
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.run(msg, keyOf(dst)); err != nil {
		return nil, err
	}
	return ext.Hash, nil
}

// newStep opens a block at the clock's time (never before the last one).
// c.mu must be held.
func (c *Chain) newStep() (*step, error) {
	now := uint32(c.clock().Unix())
	if now < c.meta.now {
		now = c.meta.now
	}
	seed := sha256.New()
	_ = binary.Write(seed, binary.BigEndian, c.globalID)
	_ = binary.Write(seed, binary.BigEndian, c.meta.steps)
	_ = binary.Write(seed, binary.BigEndian, now)
	block, err := c.cfg.NewBlockContext(tvm.BlockOptions{
		Now:      now,
		RandSeed: seed.Sum(nil),
		GlobalID: c.globalID,
	})
	if err != nil {
		return nil, fmt.Errorf("emu: open block: %w", err)
	}
	return &step{
		now:      now,
		block:    block,
		blockLT:  (c.meta.lt/ltAlign + 1) * ltAlign,
		accounts: make(map[acctKey]*accountEntry),
		endLT:    c.meta.lt,
	}, nil
}

// run executes first (to dst) and the cascade it causes as one step, then
// commits it. An external message the contract does not accept fails with
// ton.ErrRejected and changes nothing. c.mu must be held.
func (c *Chain) run(first *tvm.PreparedMessage, dst acctKey) error {
	st, err := c.newStep()
	if err != nil {
		return err
	}
	q := &queue{{msg: first, dst: dst}}
	seq := 1
	for q.Len() > 0 {
		if len(st.txs) >= maxTxPerStep {
			return fmt.Errorf("emu: step exceeds %d transactions (a contract loop?): nothing was applied", maxTxPerStep)
		}
		p := heap.Pop(q).(*pending)
		res, err := c.execute(st, p)
		if err != nil {
			return err
		}
		if res == nil {
			continue
		}
		for _, out := range res.OutMessages {
			if out.Msg == nil || out.Msg.MsgType != tlb.MsgTypeInternal {
				continue // external-out messages are logs: they go nowhere
			}
			in := out.Msg.AsInternal()
			if in.DstAddr == nil || in.DstAddr.Type() != address.StdAddress {
				c.log.Warn("dropping internal message to a non-standard address", "dst", in.DstAddr)
				continue
			}
			pm, err := tvm.PrepareParsedMessage(out.Cell, out.Msg)
			if err != nil {
				return fmt.Errorf("emu: prepare message to %s: %w", in.DstAddr, err)
			}
			heap.Push(q, &pending{msg: pm, dst: keyOf(in.DstAddr), lt: in.CreatedLT, seq: seq})
			seq++
		}
	}
	return c.commit(st)
}

// execute runs one transaction. It returns nil, nil for nothing to apply,
// and ton.ErrRejected for an external message the contract refused.
func (c *Chain) execute(st *step, p *pending) (*tvm.TransactionExecutionResult, error) {
	acc, err := c.account(st, p.dst)
	if err != nil {
		return nil, err
	}
	res, err := c.vm.EmulateTransaction(st.block, acc.prepared, p.msg, tvm.TransactionOptions{
		LogicalTime:        int64(st.blockLT),
		AccountStorageStat: acc.stat,
	})
	if err != nil {
		return nil, fmt.Errorf("emu: execute message to %s: %w", p.dst.address(), err)
	}
	if res.TransactionCell == nil {
		if p.msg.Message().MsgType == tlb.MsgTypeExternalIn {
			return nil, fmt.Errorf("%w: %s refused it (exit code %d): nothing changed", ton.ErrRejected, p.dst.address(), res.ExitCode)
		}
		return nil, fmt.Errorf("emu: message to %s produced no transaction", p.dst.address())
	}
	lt, err := txLT(res.TransactionCell)
	if err != nil {
		return nil, err
	}
	st.accounts[p.dst] = &accountEntry{prepared: res.NextAccount, stat: res.AccountStorageStat}
	st.txs = append(st.txs, stepTx{acct: p.dst, lt: lt, cell: res.TransactionCell})
	if res.EndLT > st.endLT {
		st.endLT = res.EndLT
	}
	return res, nil
}

// txLT reads the logical time of a transaction cell (after the 4-bit tag
// and the 256-bit account).
func txLT(tx *cell.Cell) (uint64, error) {
	s, err := tx.BeginParse()
	if err == nil {
		_, err = s.LoadUInt(4)
	}
	if err == nil {
		_, err = s.LoadSlice(256)
	}
	var lt uint64
	if err == nil {
		lt, err = s.LoadUInt(64)
	}
	if err != nil {
		return 0, fmt.Errorf("emu: read transaction logical time: %w", err)
	}
	return lt, nil
}

// commit writes the step as one durable batch, then makes it visible.
func (c *Chain) commit(st *step) error {
	b := c.space.NewBatch()
	for k, e := range st.accounts {
		raw, err := encodeAccount(e)
		if err != nil {
			return err
		}
		b.Set(accountKey(k), raw)
	}
	for _, tx := range st.txs {
		b.Set(txKey(tx.acct, tx.lt), tx.cell.ToBOC())
	}
	m := meta{lt: st.endLT, now: st.now, steps: c.meta.steps + 1}
	b.Set(keyMeta, m.encode())
	if err := b.Commit(); err != nil {
		return fmt.Errorf("emu: store step %d: %w", m.steps, err)
	}
	for k, e := range st.accounts {
		c.accounts[k] = e
	}
	c.meta = m
	c.log.Debug("step applied", "step", m.steps, "transactions", len(st.txs), "lt", m.lt)
	return nil
}

// decodeTx parses a stored transaction BOC of an account in workchain wc.
func decodeTx(wc int32, raw []byte) (*ton.Transaction, error) {
	root, err := cell.FromBOC(raw)
	if err != nil {
		return nil, fmt.Errorf("emu: stored transaction is corrupt: %w", err)
	}
	tx, err := ton.FromCell(wc, root)
	if err != nil {
		return nil, fmt.Errorf("emu: stored transaction is corrupt: %w", err)
	}
	return tx, nil
}

// genesis deploys the faucet wallet holding supply: an internal message
// from the zero masterchain address carrying the wallet's state init, run
// through the executor like any other.
func (c *Chain) genesis(supply *big.Int) error {
	init, err := faucetStateInit(c.faucetKey, c.globalID)
	if err != nil {
		return err
	}
	msg := &tlb.InternalMessage{
		IHRDisabled: true,
		SrcAddr:     address.NewAddress(0, 0xff, make([]byte, 32)),
		DstAddr:     c.faucetAddr,
		Amount:      tlb.FromNanoTON(supply),
		StateInit:   init,
		Body:        cell.BeginCell().EndCell(),
	}
	mc, err := tlb.ToCell(msg)
	if err != nil {
		return fmt.Errorf("emu: genesis message: %w", err)
	}
	pm, err := tvm.PrepareMessage(mc)
	if err != nil {
		return fmt.Errorf("emu: genesis message: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.run(pm, keyOf(c.faucetAddr)); err != nil {
		return fmt.Errorf("emu: genesis: %w", err)
	}
	return nil
}
