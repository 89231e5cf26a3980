package service

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/ledger/anchor"
	"github.com/tonmesh/tonmesh/ledger/journal"
)

// record appends a settlement to the journal. The entry's key makes it
// idempotent: recording the same settlement twice writes it once. A failure
// is logged, not returned: the settlement already happened on chain and the
// journal must not turn it into an error for the caller.
func (s *Service) record(ctx context.Context, kind journal.Kind, key string, amount *big.Int, counterparty string) {
	_, err := s.journal.Append(ctx, journal.Entry{Kind: kind, Key: key, Amount: amount, Counterparty: counterparty})
	if err != nil {
		s.log.Error("journal append failed", "kind", kind, "key", key, "err", err)
	}
}

// JournalEntry is one settlement as the API shows it.
type JournalEntry struct {
	Seq          uint64 `json:"seq"`
	Kind         string `json:"kind"`
	Key          string `json:"key"`
	Amount       Amount `json:"amount"`
	Counterparty string `json:"counterparty,omitempty"`
	Time         string `json:"time"`
	Hash         string `json:"hash"`
}

func journalEntry(r *journal.Record) JournalEntry {
	return JournalEntry{Seq: r.Seq, Kind: string(r.Kind), Key: r.Key, Amount: amount(r.Amount),
		Counterparty: r.Counterparty, Time: r.Time.UTC().Format("2006-01-02T15:04:05Z"), Hash: hex.EncodeToString(r.Hash)}
}

func (s *Service) handleJournal(w http.ResponseWriter, r *http.Request) {
	if err := s.unavailable(); err != nil {
		writeErr(w, err)
		return
	}
	after := uint64(0)
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			apiutil.BadRequest(w, "after: use a journal sequence number")
			return
		}
		after = n
	}
	recs, err := s.journal.List(after, 1000)
	if err != nil {
		writeErr(w, err)
		return
	}
	out := []JournalEntry{}
	for _, rec := range recs {
		out = append(out, journalEntry(rec))
	}
	apiutil.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) anchorer() (*anchor.Anchorer, error) {
	if _, err := s.Wallet(); err != nil {
		return nil, err
	}
	if s.anchors == nil {
		return nil, fmt.Errorf("%w: anchoring is off (ton.anchor_interval = \"0s\")", ErrUnavailable)
	}
	return s.anchors, nil
}

func (s *Service) handleAnchors(w http.ResponseWriter, r *http.Request) {
	a, err := s.anchorer()
	if err != nil {
		writeErr(w, err)
		return
	}
	list, err := a.List()
	if err != nil {
		writeErr(w, err)
		return
	}
	if list == nil {
		list = []*anchor.Anchor{}
	}
	apiutil.WriteJSON(w, http.StatusOK, list)
}

// AnchorNow anchors the journal entries not anchored yet.
func (s *Service) AnchorNow(ctx context.Context) (*anchor.Anchor, error) {
	a, err := s.anchorer()
	if err != nil {
		return nil, err
	}
	return a.AnchorNow(ctx)
}

func (s *Service) handleAnchorNow(w http.ResponseWriter, r *http.Request) {
	an, err := s.AnchorNow(r.Context())
	if errors.Is(err, anchor.ErrNothingToAnchor) {
		apiutil.WriteError(w, http.StatusConflict, "nothing_to_anchor", "every journal entry is already anchored")
		return
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, an)
}

// Verification is the answer of GET /api/v1/ledger/verify/{seq}.
type Verification struct {
	Valid bool                   `json:"valid"`
	Proof *anchor.InclusionProof `json:"proof"`
}

func (s *Service) handleVerify(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		apiutil.BadRequest(w, "entry id: use a journal sequence number (see `tonmesh ledger journal`)")
		return
	}
	a, err := s.anchorer()
	if err != nil {
		writeErr(w, err)
		return
	}
	p, err := a.Prove(seq)
	switch {
	case errors.Is(err, anchor.ErrNotAnchored), errors.Is(err, journal.ErrNotFound):
		apiutil.WriteError(w, http.StatusNotFound, "not_anchored", fmt.Sprintf("entry %d: %v (anchors are made every ton.anchor_interval; `tonmesh ledger anchor` makes one now)", seq, err))
		return
	case err != nil:
		writeErr(w, err)
		return
	}
	if err := a.VerifyInclusion(r.Context(), p); err != nil {
		apiutil.WriteError(w, http.StatusConflict, "invalid_proof", fmt.Sprintf("entry %d does not verify against its anchor: %v", seq, err))
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, Verification{Valid: true, Proof: p})
}

// Record appends a settlement made by another service (a vault share, a
// market sale, a compute job) to the node's journal. The entry's Key makes
// it idempotent. Unlike the ledger's own bookkeeping, the error is returned:
// the caller decides whether a settlement it could not journal is fatal.
func (s *Service) Record(ctx context.Context, e journal.Entry) error {
	if err := s.unavailable(); err != nil {
		return err
	}
	if _, err := s.journal.Append(ctx, e); err != nil {
		return fmt.Errorf("ledger: journal %s %q: %w", e.Kind, e.Key, err)
	}
	return nil
}

// RecordAll is Record for entries that are ready together: they are
// written in one synced batch. On error, some may have been written;
// recording them again (by their keys) is safe.
func (s *Service) RecordAll(ctx context.Context, es []journal.Entry) error {
	if err := s.unavailable(); err != nil {
		return err
	}
	if _, err := s.journal.AppendAll(ctx, es); err != nil {
		return fmt.Errorf("ledger: journal %d entries: %w", len(es), err)
	}
	return nil
}
