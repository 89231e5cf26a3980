package anchor

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/ledger/ton"
)

// Reconcile brings the anchor state in line with the chain and checks the
// journal against it. Call it at start, before the node serves anything:
//   - pending anchors found on chain are confirmed (stale ones abandoned);
//   - every anchor the wallet sent since the last confirmed one this store
//     knows of is read back from the chain; one the store does not know
//     (only possible if the store was replaced by an older copy) is checked
//     like the rest and, if the journal matches it, recorded as confirmed;
//   - if the journal's head seq is behind any of those anchors' to_seq, or
//     its record at that seq has another hash, Reconcile returns an error
//     wrapping ErrRolledBack. Do not continue on that database.
func (a *Anchorer) Reconcile(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reconcileLocked(ctx)
}

func (a *Anchorer) reconcileLocked(ctx context.Context) error {
	if a.reconciled {
		return nil
	}
	st, err := a.state()
	if err != nil {
		return err
	}
	if st.pending != nil {
		if _, err := a.settlePending(ctx, st.pending); err != nil {
			return err
		}
		if st, err = a.state(); err != nil {
			return err
		}
	}
	var afterLT uint64
	known := map[string]bool{}
	if st.confirmed != nil {
		if err := a.checkJournal(st.confirmed.Body(), st.confirmed.TxLT); err != nil {
			return err
		}
		afterLT = st.confirmed.TxLT
		known[string(st.confirmed.BodyHash)] = true
	}
	var onChain []*Anchor
	var firstErr error
	err = a.scan(ctx, afterLT, func(tx *ton.Transaction, m *ton.Message) bool {
		body, err := ParseBody(m.Body)
		if errors.Is(err, ErrNotAnchorBody) {
			return true
		}
		if err != nil {
			a.o.log.Warn("malformed anchor message from this wallet ignored", "tx_lt", tx.LT, "err", err)
			return true
		}
		if err := a.checkJournal(body, tx.LT); err != nil {
			firstErr = err
			return false
		}
		if !known[string(m.Body.Hash())] {
			known[string(m.Body.Hash())] = true
			onChain = append(onChain, &Anchor{
				FromSeq: body.FromSeq, ToSeq: body.ToSeq, Root: body.Root, HeadHash: body.Head,
				Status: StatusConfirmed, Wallet: a.addr.StringRaw(), Dest: a.dest.StringRaw(),
				BodyHash: m.Body.Hash(), TxLT: tx.LT, TxHash: tx.Hash,
			})
		}
		return true
	})
	if err != nil {
		return err
	}
	if firstErr != nil {
		return firstErr
	}
	if err := a.adopt(onChain); err != nil {
		return err
	}
	head, _ := a.j.Head()
	if st.confirmed != nil && head > st.confirmed.ToSeq {
		if err := a.j.Verify(st.confirmed.ToSeq, head); err != nil {
			return fmt.Errorf("anchor: journal records after the last anchor do not chain: %w", err)
		}
	}
	a.reconciled = true
	return nil
}

// adopt records anchors found on chain that the store does not know about
// (an anchor's own pending record confirms through settlePending, so these
// come from a store that lost them), after checkJournal passed on them.
// Only anchors continuing the last confirmed range are recorded, so
// confirmed ranges stay consecutive; others are logged and skipped.
func (a *Anchorer) adopt(found []*Anchor) error {
	if len(found) == 0 {
		return nil
	}
	st, err := a.state()
	if err != nil {
		return err
	}
	var last uint64
	if st.confirmed != nil {
		last = st.confirmed.ToSeq
	}
	next := st.nextID
	for _, an := range found {
		if an.FromSeq != last {
			a.o.log.Warn("anchor on chain does not continue the last confirmed range; not recorded",
				"from_seq", an.FromSeq, "to_seq", an.ToSeq, "last_to_seq", last, "tx_lt", an.TxLT)
			continue
		}
		an.ID = next
		next++
		last = an.ToSeq
		an.CreatedAt = a.o.clock().UTC()
		an.ConfirmedAt = an.CreatedAt
		a.o.log.Warn("anchor found on chain that this store did not know; the journal matches it, recording it",
			"id", an.ID, "from_seq", an.FromSeq, "to_seq", an.ToSeq, "tx_lt", an.TxLT)
		if err := a.save(an); err != nil {
			return err
		}
	}
	return nil
}

// checkJournal fails with ErrRolledBack if the journal does not reach b's
// to_seq or its record there is not b's head.
func (a *Anchorer) checkJournal(b *Body, txLT uint64) error {
	head, _ := a.j.Head()
	if head < b.ToSeq {
		return fmt.Errorf("%w: anchor of records (%d, %d] was confirmed on chain from wallet %s (transaction lt %d), "+
			"but the local journal ends at seq %d. The database is older than the chain: it was restored from an old "+
			"backup or copied. Refusing to continue: restore the latest backup of this node's home, or re-sync the journal, before starting the node",
			ErrRolledBack, b.FromSeq, b.ToSeq, a.addr, txLT, head)
	}
	r, err := a.j.Get(b.ToSeq)
	if err != nil && !errors.Is(err, journal.ErrNotFound) {
		return fmt.Errorf("anchor: read journal record %d to check it against the chain: %w", b.ToSeq, err)
	}
	if err != nil || !bytes.Equal(r.Hash, b.Head) {
		var got []byte
		if r != nil {
			got = r.Hash
		}
		return fmt.Errorf("%w: anchor of records (%d, %d] (transaction lt %d of wallet %s) commits to head hash %x at seq %d, "+
			"but the local journal has %x there. The database was rolled back and rewritten (or altered). Refusing to continue: "+
			"restore the latest backup of this node's home, or re-sync the journal, before starting the node",
			ErrRolledBack, b.FromSeq, b.ToSeq, txLT, a.addr, b.Head, b.ToSeq, got)
	}
	return nil
}
