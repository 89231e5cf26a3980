package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// commitLoop is the committer: it takes the first waiting append, then
// every other one already queued (until the round holds maxBatch entries;
// one AppendAll is never split, so a round may hold more), writes them in
// one durable batch and answers each caller. It exits when Close closes
// the queue, after committing what was in it.
func (j *Journal) commitLoop() {
	defer close(j.done)
	round := make([]*pending, 0, j.maxBatch)
	for first := range j.queue {
		round = append(round[:0], first...)
	fill:
		for len(round) < j.maxBatch {
			select {
			case ps, ok := <-j.queue:
				if !ok {
					break fill
				}
				round = append(round, ps...)
			default:
				break fill
			}
		}
		j.commitRound(round)
		clear(round)
	}
}

// commitRound assigns seqs to the round's new entries, writes them with the
// new head in one batch and answers every caller once it is durable.
func (j *Journal) commitRound(round []*pending) {
	seq, prev := j.Head()
	b := j.space.NewBatch()
	fresh := make(map[string]*Record, len(round))
	results := make([]result, len(round))
	var added []*Record
	for i, p := range round {
		if r, ok := fresh[p.e.Key]; ok {
			results[i].rec = r
			continue
		}
		old, err := j.GetByKey(p.e.Key)
		switch {
		case err == nil:
			results[i].rec = old
			continue
		case !errors.Is(err, ErrNotFound):
			results[i].err = err
			continue
		}
		seq++
		r := &Record{Seq: seq, Prev: prev, Entry: p.e}
		r.Hash = r.ComputeHash()
		prev = r.Hash
		b.Set(recordKey(seq), MarshalRecord(r))
		b.Set(indexKey(r.Key), binary.BigEndian.AppendUint64(nil, seq))
		fresh[r.Key] = r
		results[i].rec = r
		added = append(added, r)
	}
	if len(added) > 0 {
		b.Set(keyHead, append(binary.BigEndian.AppendUint64(nil, seq), prev...))
		if err := b.Commit(); err != nil {
			err = fmt.Errorf("journal: write %d entries: %w (nothing was recorded; retry)", len(added), err)
			j.log.Error("journal commit failed", "entries", len(added), "err", err)
			for i := range results {
				if results[i].err == nil && isNew(results[i].rec, added) {
					results[i] = result{err: err}
				}
			}
		} else {
			j.headMu.Lock()
			j.headSeq, j.headHash = seq, bytes.Clone(prev)
			j.headMu.Unlock()
		}
	}
	for i, p := range round {
		p.res <- results[i]
	}
}

func isNew(r *Record, added []*Record) bool {
	for _, a := range added {
		if a == r {
			return true
		}
	}
	return false
}
