package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// ErrNotFound is returned by Space.Get for a key that has no value.
var ErrNotFound = errors.New("ledger: not found")

// ErrLocked is returned by Open when another process holds the database.
var ErrLocked = errors.New("ledger: database is in use by another process")

var spaceName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// Store is a node's Pebble database. It is safe for concurrent use.
type Store struct {
	db   *pebble.DB
	lock *pebble.Lock
	dir  string
	log  *slog.Logger

	mu     sync.Mutex
	spaces map[string]bool

	writes  prometheus.Counter
	commits atomic.Uint64
}

// Option configures Open.
type Option func(*storeOptions)

type storeOptions struct {
	log *slog.Logger
	reg prometheus.Registerer
}

// WithLogger sends Pebble's own messages to l.
func WithLogger(l *slog.Logger) Option { return func(o *storeOptions) { o.log = l } }

// WithMetrics registers the store's metrics with reg.
func WithMetrics(reg prometheus.Registerer) Option { return func(o *storeOptions) { o.reg = reg } }

// Open opens (creating if needed) the database in dir.
func Open(dir string, opts ...Option) (*Store, error) {
	o := storeOptions{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ledger: create %s: %w", dir, err)
	}
	lock, err := pebble.LockDirectory(dir, vfs.Default)
	if err != nil {
		return nil, fmt.Errorf("%w: %s (stop the other daemon using this home, or pick another --home): %v", ErrLocked, dir, err)
	}
	popts := &pebble.Options{Lock: lock, Logger: pebbleLogger{o.log}}
	// Bloom filters on every level: idempotency checks (journal keys, deposit
	// hashes) mostly look up keys that do not exist yet.
	for i := range popts.Levels {
		popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, popts)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("ledger: open database %s: %w", dir, err)
	}
	s := &Store{
		db:     db,
		lock:   lock,
		dir:    dir,
		log:    o.log,
		spaces: make(map[string]bool),
		writes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tonmesh_store_commits_total",
			Help: "Durable commits (single writes and batches) to the node's Pebble store.",
		}),
	}
	if o.reg != nil {
		diskBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tonmesh_store_disk_bytes",
			Help: "Bytes on disk used by the node's Pebble store.",
		}, func() float64 { return float64(s.db.Metrics().DiskSpaceUsage()) })
		for _, c := range []prometheus.Collector{s.writes, diskBytes} {
			if err := o.reg.Register(c); err != nil {
				s.Close()
				return nil, fmt.Errorf("ledger: register metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Dir is the directory the database lives in.
func (s *Store) Dir() string { return s.dir }

// Close flushes and closes the database and releases its lock.
func (s *Store) Close() error {
	defer s.lock.Close()
	if err := s.db.Flush(); err != nil {
		s.db.Close()
		return fmt.Errorf("ledger: flush on close: %w", err)
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("ledger: close: %w", err)
	}
	return nil
}

// Space returns the key space called name, reserving it for the caller.
// Names are lower-case letters, digits and dashes, starting with a letter.
func (s *Store) Space(name string) (*Space, error) {
	if !spaceName.MatchString(name) {
		return nil, fmt.Errorf("ledger: space name %q: use 1-32 of a-z, 0-9, '-', starting with a letter", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spaces[name] {
		return nil, fmt.Errorf("ledger: space %q is already taken by another package", name)
	}
	s.spaces[name] = true
	return &Space{s: s, prefix: []byte(name + "/")}, nil
}

// Space is one package's part of the store: every key is stored under the
// space's prefix, which callers never see.
type Space struct {
	s      *Store
	prefix []byte
}

func (sp *Space) key(k []byte) []byte {
	out := make([]byte, 0, len(sp.prefix)+len(k))
	return append(append(out, sp.prefix...), k...)
}

// Get returns a copy of the value stored under key, or ErrNotFound.
func (sp *Space) Get(key []byte) ([]byte, error) {
	v, closer, err := sp.s.db.Get(sp.key(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: get: %w", err)
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

// Set stores value under key durably.
func (sp *Space) Set(key, value []byte) error {
	b := sp.NewBatch()
	b.Set(key, value)
	return b.Commit()
}

// Delete removes key durably. Deleting a missing key is not an error.
func (sp *Space) Delete(key []byte) error {
	b := sp.NewBatch()
	b.Delete(key)
	return b.Commit()
}

// Iterate calls fn for every key in the space that starts with prefix, in key
// order. Keys and values passed to fn are only valid during the call.
// Iteration stops at the first error fn returns, which Iterate returns.
func (sp *Space) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	lower := sp.key(prefix)
	return sp.walk(lower, prefixEnd(lower), false, fn)
}

// IterateFrom calls fn for the keys in the space that start with prefix
// and are at least from, in key order, reading nothing before from. Keys
// and values are only valid during the call; iteration stops at the first
// error fn returns, which IterateFrom returns.
func (sp *Space) IterateFrom(prefix, from []byte, fn func(key, value []byte) error) error {
	lower, start := sp.key(prefix), sp.key(from)
	if bytes.Compare(start, lower) < 0 {
		start = lower
	}
	return sp.walk(start, prefixEnd(lower), false, fn)
}

// IterateReverse calls fn for the keys in the space that start with prefix
// and are at most from (every such key when from is nil), in descending key
// order, reading nothing beyond what fn is given. Keys and values are only
// valid during the call; iteration stops at the first error fn returns,
// which IterateReverse returns.
func (sp *Space) IterateReverse(prefix, from []byte, fn func(key, value []byte) error) error {
	lower := sp.key(prefix)
	upper := prefixEnd(lower)
	if from != nil {
		upper = append(sp.key(from), 0) // the smallest key after from
	}
	return sp.walk(lower, upper, true, fn)
}

// walk calls fn for the keys in [lower, upper), ascending or descending,
// with the space's prefix cut off.
func (sp *Space) walk(lower, upper []byte, descending bool, fn func(key, value []byte) error) error {
	it, err := sp.s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("ledger: iterate: %w", err)
	}
	start, step := it.First, it.Next
	if descending {
		start, step = it.Last, it.Prev
	}
	for ok := start(); ok; ok = step() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("ledger: iterate: %w", err)
		}
		if err := fn(it.Key()[len(sp.prefix):], v); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("ledger: iterate: %w", err)
	}
	return nil
}

// NewBatch starts an atomic group of writes to this space.
func (sp *Space) NewBatch() *Batch {
	return &Batch{sp: sp, b: sp.s.db.NewBatch()}
}

// Batch is an atomic group of writes; nothing is visible or durable until
// Commit returns nil. A Batch is not safe for concurrent use.
type Batch struct {
	sp *Space
	b  *pebble.Batch
}

// Set adds a write of value under key.
func (b *Batch) Set(key, value []byte) { _ = b.b.Set(b.sp.key(key), value, nil) }

// Delete adds a deletion of key.
func (b *Batch) Delete(key []byte) { _ = b.b.Delete(b.sp.key(key), nil) }

// Len is the number of writes in the batch.
func (b *Batch) Len() int { return int(b.b.Count()) }

// Commit applies the batch atomically and durably, then releases it.
func (b *Batch) Commit() error {
	defer b.b.Close()
	if err := b.b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("ledger: commit: %w", err)
	}
	b.sp.s.writes.Inc()
	b.sp.s.commits.Add(1)
	return nil
}

// Durability counts what a store has made durable since it was opened:
// synced commits, and the WAL fsyncs that carried them (Pebble syncs
// commits that arrive together with one fsync).
type Durability struct {
	Commits uint64 `json:"commits"`
	Fsyncs  uint64 `json:"fsyncs"`
}

// Durability reports the store's synced commits and WAL fsyncs so far.
func (s *Store) Durability() Durability {
	d := Durability{Commits: s.commits.Load()}
	if h := s.db.Metrics().LogWriter.FsyncLatency; h != nil {
		var m dto.Metric
		if h.Write(&m) == nil && m.Histogram != nil {
			d.Fsyncs = m.Histogram.GetSampleCount()
		}
	}
	return d
}

// prefixEnd is the smallest key greater than every key starting with p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// pebbleLogger routes Pebble's printf-style logs into slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	panic(fmt.Sprintf(format, args...))
}
