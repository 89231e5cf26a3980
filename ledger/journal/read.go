package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tonmesh/tonmesh/ledger"
)

// Get returns the record with sequence number seq.
func (j *Journal) Get(seq uint64) (*Record, error) {
	v, err := j.space.Get(recordKey(seq))
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, fmt.Errorf("%w: seq %d", ErrNotFound, seq)
	}
	if err != nil {
		return nil, fmt.Errorf("journal: read record %d: %w", seq, err)
	}
	r, err := UnmarshalRecord(v)
	if err != nil {
		return nil, fmt.Errorf("journal: record %d is damaged (restore the store from a backup): %w", seq, err)
	}
	if r.Seq != seq {
		return nil, fmt.Errorf("journal: record stored under seq %d says seq %d: the store is damaged; restore it from a backup", seq, r.Seq)
	}
	return r, nil
}

// GetByKey returns the record appended with idempotency key key.
func (j *Journal) GetByKey(key string) (*Record, error) {
	v, err := j.space.Get(indexKey(key))
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, fmt.Errorf("%w: key %q", ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("journal: read key %q: %w", key, err)
	}
	if len(v) != 8 {
		return nil, fmt.Errorf("journal: index of key %q is damaged (%d bytes); restore the store from a backup", key, len(v))
	}
	return j.Get(binary.BigEndian.Uint64(v))
}

// List returns up to limit records with seq > afterSeq, in seq order,
// up to the head. limit <= 0 means no limit.
func (j *Journal) List(afterSeq uint64, limit int) ([]*Record, error) {
	head, _ := j.Head()
	var out []*Record
	for seq := afterSeq + 1; seq <= head && (limit <= 0 || len(out) < limit); seq++ {
		r, err := j.Get(seq)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Hashes returns the hashes of records (afterSeq, toSeq], in order, as
// stored. It fails if a record in the range is missing.
func (j *Journal) Hashes(afterSeq, toSeq uint64) ([][]byte, error) {
	if toSeq < afterSeq {
		return nil, fmt.Errorf("journal: hashes of (%d, %d]: empty range", afterSeq, toSeq)
	}
	out := make([][]byte, 0, toSeq-afterSeq)
	for seq := afterSeq + 1; seq <= toSeq; seq++ {
		r, err := j.Get(seq)
		if err != nil {
			return nil, err
		}
		out = append(out, r.Hash)
	}
	return out, nil
}

// BrokenError is Verify's report of the first broken link.
type BrokenError struct {
	Seq    uint64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("journal: chain broken at seq %d: %s (the store was altered or damaged; restore it from a backup)", e.Seq, e.Reason)
}

// Verify recomputes the chain over records fromSeq..toSeq (inclusive,
// fromSeq >= 1): each record's hash, its link to the one before it, and
// that no seq is missing. It returns a *BrokenError for the first broken
// link, or nil.
func (j *Journal) Verify(fromSeq, toSeq uint64) error {
	if fromSeq == 0 {
		fromSeq = 1
	}
	if toSeq < fromSeq {
		return nil
	}
	prev := make([]byte, HashSize)
	if fromSeq > 1 {
		r, err := j.Get(fromSeq - 1)
		if err != nil {
			return &BrokenError{Seq: fromSeq - 1, Reason: err.Error()}
		}
		prev = r.Hash
	}
	for seq := fromSeq; seq <= toSeq; seq++ {
		r, err := j.Get(seq)
		if err != nil {
			return &BrokenError{Seq: seq, Reason: err.Error()}
		}
		if !bytes.Equal(r.Prev, prev) {
			return &BrokenError{Seq: seq, Reason: fmt.Sprintf("prev hash %x, but record %d has hash %x", r.Prev, seq-1, prev)}
		}
		if err := r.CheckHash(); err != nil {
			return &BrokenError{Seq: seq, Reason: err.Error()}
		}
		prev = r.Hash
	}
	if head, hash := j.Head(); toSeq == head && !bytes.Equal(hash, prev) {
		return &BrokenError{Seq: head, Reason: fmt.Sprintf("head hash %x differs from record's %x", hash, prev)}
	}
	return nil
}
