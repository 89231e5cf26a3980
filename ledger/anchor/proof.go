package anchor

import (
	"bytes"
	"context"
	"fmt"

	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
)

// InclusionProof shows that a journal record is covered by an anchor
// confirmed on chain.
type InclusionProof struct {
	Record *journal.Record `json:"record"`
	Anchor *Anchor         `json:"anchor"`
	// Index is the record's leaf position (Seq - Anchor.FromSeq - 1),
	// Count the anchor's leaf count, Path the Merkle siblings bottom-up.
	Index int      `json:"index"`
	Count int      `json:"count"`
	Path  [][]byte `json:"path"`
	Root  []byte   `json:"root"`
}

// Prove returns the inclusion proof of record seq against the confirmed
// anchor that covers it, or ErrNotAnchored.
func (a *Anchorer) Prove(seq uint64) (*InclusionProof, error) {
	all, err := a.List()
	if err != nil {
		return nil, err
	}
	var an *Anchor
	for _, x := range all {
		if x.Status == StatusConfirmed && x.FromSeq < seq && seq <= x.ToSeq {
			an = x
			break
		}
	}
	if an == nil {
		return nil, fmt.Errorf("%w: seq %d (wait for the next anchor)", ErrNotAnchored, seq)
	}
	rec, err := a.j.Get(seq)
	if err != nil {
		return nil, err
	}
	hashes, err := a.j.Hashes(an.FromSeq, an.ToSeq)
	if err != nil {
		return nil, err
	}
	idx := int(seq - an.FromSeq - 1)
	path, err := journal.Proof(hashes, idx)
	if err != nil {
		return nil, err
	}
	return &InclusionProof{Record: rec, Anchor: an, Index: idx, Count: len(hashes), Path: path, Root: an.Root}, nil
}

// VerifyInclusion checks p with a's chain; see VerifyInclusion.
func (a *Anchorer) VerifyInclusion(ctx context.Context, p *InclusionProof) error {
	return VerifyInclusion(ctx, a.chain, p)
}

// VerifyInclusion checks that p's record is intact, that the Merkle path
// leads from it to the anchor's root, and that the anchor's transaction is
// on chain, from the anchor's wallet, with an out-message whose body
// commits to that same range, root and head. It returns what failed.
func VerifyInclusion(ctx context.Context, chain ton.Chain, p *InclusionProof) error {
	if p == nil || p.Record == nil || p.Anchor == nil {
		return fmt.Errorf("anchor: incomplete inclusion proof")
	}
	r, an := p.Record, p.Anchor
	if err := r.CheckHash(); err != nil {
		return err
	}
	if an.Status != StatusConfirmed {
		return fmt.Errorf("anchor: proof of record %d refers to anchor %d, which is %s, not confirmed", r.Seq, an.ID, an.Status)
	}
	if r.Seq <= an.FromSeq || r.Seq > an.ToSeq || uint64(p.Index) != r.Seq-an.FromSeq-1 || uint64(p.Count) != an.ToSeq-an.FromSeq {
		return fmt.Errorf("anchor: record %d at index %d of %d does not belong to anchor (%d, %d]", r.Seq, p.Index, p.Count, an.FromSeq, an.ToSeq)
	}
	if !bytes.Equal(p.Root, an.Root) || !journal.VerifyProof(r.Hash, p.Index, p.Count, p.Path, an.Root) {
		return fmt.Errorf("anchor: Merkle path of record %d does not lead to the root %x of anchor %d", r.Seq, an.Root, an.ID)
	}
	if r.Seq == an.ToSeq && !bytes.Equal(r.Hash, an.HeadHash) {
		return fmt.Errorf("anchor: record %d is the anchor's head but its hash differs from the anchored one", r.Seq)
	}
	return verifyOnChain(ctx, chain, an)
}

// verifyOnChain finds an's transaction and checks its body.
func verifyOnChain(ctx context.Context, chain ton.Chain, an *Anchor) error {
	from, err := address.ParseRawAddr(an.Wallet)
	if err != nil {
		return fmt.Errorf("anchor: anchor %d names wallet %q: %w", an.ID, an.Wallet, err)
	}
	if an.TxLT == 0 {
		return fmt.Errorf("anchor: anchor %d has no transaction", an.ID)
	}
	txs, err := chain.Transactions(ctx, from, an.TxLT-1, 1)
	if err != nil {
		return fmt.Errorf("anchor: read transaction lt %d of %s: %w", an.TxLT, an.Wallet, err)
	}
	if len(txs) == 0 || txs[0].LT != an.TxLT || !bytes.Equal(txs[0].Hash, an.TxHash) {
		return fmt.Errorf("anchor: transaction lt %d hash %x of %s is not on chain", an.TxLT, an.TxHash, an.Wallet)
	}
	want := an.Body()
	for _, m := range txs[0].Out {
		if m.Kind != ton.Internal {
			continue
		}
		if b, err := ParseBody(m.Body); err == nil && b.Equal(want) {
			return nil
		}
	}
	return fmt.Errorf("anchor: transaction lt %d of %s sent no anchor of records (%d, %d] with root %x", an.TxLT, an.Wallet, an.FromSeq, an.ToSeq, an.Root)
}
