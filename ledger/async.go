package ledger

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// CommitAsync applies the batch atomically and releases it without waiting
// for the disk: its writes are visible to every read when CommitAsync
// returns, and durable once the returned wait has returned nil. Nothing may
// treat them as durable before (answer a peer, send what they protect):
// a crash in between loses them.
//
// It is the store's group commit for callers that serialize on a lock: take
// the lock, read, CommitAsync, release the lock, then wait. Writes become
// durable in the order they were applied (one write-ahead log), so a wait
// also covers every write applied before it, and concurrent waits share
// fsyncs; a crash loses a suffix of the writes applied, never part of a
// batch.
func (b *Batch) CommitAsync() (wait func() error, err error) {
	defer b.b.Close()
	if err := b.b.Commit(pebble.NoSync); err != nil {
		return nil, fmt.Errorf("ledger: commit: %w", err)
	}
	s := b.sp.s
	return func() error {
		if err := s.Sync(); err != nil {
			return err
		}
		s.writes.Inc()
		s.commits.Add(1)
		return nil
	}, nil
}

// Sync waits until every write applied to the store before it is durable.
func (s *Store) Sync() error {
	if err := s.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("ledger: sync: %w", err)
	}
	return nil
}
