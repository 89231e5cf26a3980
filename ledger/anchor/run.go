package anchor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/wallet"
)

// Run reconciles (if that has not succeeded yet), then every interval
// anchors the records appended since the last anchor, until ctx ends. It
// skips a round when nothing is new or an anchor is still pending, and
// logs failed rounds and tries again next time. It returns Reconcile's
// error (ErrRolledBack included) without anchoring, or nil when ctx ends.
func (a *Anchorer) Run(ctx context.Context) error {
	if err := a.Reconcile(ctx); err != nil {
		return err
	}
	t := time.NewTicker(a.o.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		an, err := a.AnchorNow(ctx)
		switch {
		case err == nil:
			a.o.log.Info("journal anchored", "id", an.ID, "from_seq", an.FromSeq, "to_seq", an.ToSeq, "tx_lt", an.TxLT)
		case errors.Is(err, ErrNothingToAnchor), errors.Is(err, ErrPending):
			a.o.log.Debug("anchor round skipped", "why", err)
		case ctx.Err() != nil:
			return nil
		default:
			a.o.log.Warn("anchor round failed; will retry", "err", err)
		}
	}
}

// AnchorNow anchors the records appended since the last confirmed anchor
// (at most WithMaxRecords of them) and returns the anchor, confirmed once
// its transaction is found. It returns ErrNothingToAnchor when there is
// nothing new and ErrPending while an earlier anchor is not yet on chain.
func (a *Anchorer) AnchorNow(ctx context.Context) (*Anchor, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.reconcileLocked(ctx); err != nil {
		return nil, err
	}
	st, err := a.state()
	if err != nil {
		return nil, err
	}
	if st.pending != nil {
		ok, err := a.settlePending(ctx, st.pending)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: anchor %d of records (%d, %d], created %s", ErrPending,
				st.pending.ID, st.pending.FromSeq, st.pending.ToSeq, st.pending.CreatedAt.Format(time.RFC3339))
		}
		if st, err = a.state(); err != nil {
			return nil, err
		}
	}
	var from uint64
	if st.confirmed != nil {
		from = st.confirmed.ToSeq
	}
	head, _ := a.j.Head()
	if head <= from {
		return nil, ErrNothingToAnchor
	}
	return a.anchor(ctx, st.nextID, from, min(head, from+a.o.maxRecords))
}

// anchor writes a pending anchor of (from, to], sends it and confirms it.
func (a *Anchorer) anchor(ctx context.Context, id, from, to uint64) (*Anchor, error) {
	hashes, err := a.j.Hashes(from, to)
	if err != nil {
		return nil, fmt.Errorf("anchor: read journal records (%d, %d]: %w", from, to, err)
	}
	an := &Anchor{
		ID: id, FromSeq: from, ToSeq: to,
		Root: journal.MerkleRoot(hashes), HeadHash: hashes[len(hashes)-1],
		Status: StatusPending, Wallet: a.addr.StringRaw(), Dest: a.dest.StringRaw(),
		CreatedAt: a.o.clock().UTC(),
	}
	body, err := an.Body().Cell()
	if err != nil {
		return nil, err
	}
	an.BodyHash = body.Hash()
	acct, err := a.chain.Account(ctx, a.addr)
	if err != nil {
		return nil, fmt.Errorf("anchor: read wallet %s: %w", a.addr, err)
	}
	an.ScanFromLT = acct.LastTxLT
	if err := a.save(an); err != nil {
		return nil, err
	}
	rcpt, err := a.w.SendPayload(ctx, a.dest, a.o.amount, body, false, nil)
	switch {
	case errors.Is(err, wallet.ErrInsufficientBalance):
		// Refused before anything was signed: forget the pending record.
		if derr := a.space.Delete(anchorKey(id)); derr != nil {
			return nil, fmt.Errorf("anchor: %w; and removing the unsent anchor %d failed: %v", err, id, derr)
		}
		return nil, fmt.Errorf("anchor: fund the node's wallet %s to anchor the journal: %w", a.addr, err)
	case errors.Is(err, wallet.ErrNotSent):
		an.Status = StatusAbandoned
		if serr := a.save(an); serr != nil {
			return nil, serr
		}
		return nil, fmt.Errorf("anchor: anchor %d was not sent (its range will be anchored again): %w", id, err)
	case err != nil:
		return nil, fmt.Errorf("anchor: anchor %d of records (%d, %d] is pending; it will be confirmed if it reaches the chain, else abandoned after %s: %w",
			id, from, to, a.o.staleAfter, err)
	}
	an.MsgHash = rcpt.MsgHash
	if err := a.save(an); err != nil {
		return nil, err
	}
	if _, err := a.confirm(ctx, an); err != nil {
		return nil, err
	}
	return an, nil
}

// settlePending confirms p if its transaction is on chain, abandons it if
// it is stale, and reports whether it is settled either way.
func (a *Anchorer) settlePending(ctx context.Context, p *Anchor) (bool, error) {
	found, err := a.confirm(ctx, p)
	if err != nil || found {
		return found, err
	}
	if a.o.clock().Sub(p.CreatedAt) < a.o.staleAfter {
		return false, nil
	}
	a.o.log.Warn("pending anchor never reached the chain; abandoning it, its records will be anchored again",
		"id", p.ID, "from_seq", p.FromSeq, "to_seq", p.ToSeq, "created", p.CreatedAt)
	p.Status = StatusAbandoned
	return true, a.save(p)
}

// confirm looks for an's transaction (an out-message of the wallet with
// its body) and, when found, records it as confirmed.
func (a *Anchorer) confirm(ctx context.Context, an *Anchor) (bool, error) {
	tx, err := a.findBody(ctx, an.ScanFromLT, an.BodyHash)
	if err != nil || tx == nil {
		return false, err
	}
	an.Status = StatusConfirmed
	an.TxLT, an.TxHash = tx.LT, tx.Hash
	an.ConfirmedAt = a.o.clock().UTC()
	return true, a.save(an)
}

// findBody returns the wallet's first transaction after afterLT that sent
// an internal message with body hash bodyHash, or nil.
func (a *Anchorer) findBody(ctx context.Context, afterLT uint64, bodyHash []byte) (*ton.Transaction, error) {
	var found *ton.Transaction
	err := a.scan(ctx, afterLT, func(tx *ton.Transaction, m *ton.Message) bool {
		if bytes.Equal(m.Body.Hash(), bodyHash) {
			found = tx
			return false
		}
		return true
	})
	return found, err
}

// scan calls fn for every internal message the wallet sent to the anchor
// destination with a body, in transactions after afterLT, oldest first,
// until fn returns false.
func (a *Anchorer) scan(ctx context.Context, afterLT uint64, fn func(*ton.Transaction, *ton.Message) bool) error {
	const page = 256
	for {
		txs, err := a.chain.Transactions(ctx, a.addr, afterLT, page)
		if err != nil {
			return fmt.Errorf("anchor: read transactions of %s: %w", a.addr, err)
		}
		for _, tx := range txs {
			for _, m := range tx.Out {
				if m.Kind != ton.Internal || m.Body == nil || m.Dst == nil || !m.Dst.Equals(a.dest) {
					continue
				}
				if !fn(tx, m) {
					return nil
				}
			}
			afterLT = tx.LT
		}
		if len(txs) < page {
			return nil
		}
	}
}
