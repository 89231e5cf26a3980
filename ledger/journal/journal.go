package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/tonmesh/tonmesh/ledger"
)

// SpaceName is the ledger space the journal keeps its records in.
const SpaceName = "journal"

// Defaults for Open's options.
const (
	DefaultMaxBatch = 1024
	DefaultQueue    = 4096
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("journal: closed")

// ErrUnknownKind is returned by Append for a kind not in the registry.
var ErrUnknownKind = errors.New("journal: unknown entry kind")

// ErrNotFound is returned by Get and GetByKey for a missing record.
var ErrNotFound = errors.New("journal: no such record")

var (
	keyHead = []byte("h")
)

func recordKey(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte("r"), seq) }
func indexKey(key string) []byte  { return append([]byte("k"), key...) }

// Journal is the settlements journal. It is safe for concurrent use.
type Journal struct {
	space    *ledger.Space
	log      *slog.Logger
	clock    func() time.Time
	kinds    map[Kind]bool
	maxBatch int

	// closeMu: Append holds it shared while it enqueues; Close takes it
	// exclusively to mark closed, so nothing is sent on a closed queue.
	closeMu sync.RWMutex
	closed  bool
	queue   chan []*pending // one Append's or AppendAll's entries
	done    chan struct{}

	headMu   sync.RWMutex
	headSeq  uint64
	headHash []byte
}

type pending struct {
	e   Entry
	res chan result
}

type result struct {
	rec *Record
	err error
}

// Option configures Open.
type Option func(*options)

type options struct {
	log      *slog.Logger
	clock    func() time.Time
	kinds    []Kind
	maxBatch int
	queue    int
}

// WithLogger sends the journal's logs to l.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithClock sets the clock that stamps entries given without a time.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// WithKinds adds kinds to the registry (DefaultKinds are always known).
func WithKinds(kinds ...Kind) Option {
	return func(o *options) { o.kinds = append(o.kinds, kinds...) }
}

// WithMaxBatch caps how many appends go into one durable batch.
func WithMaxBatch(n int) Option { return func(o *options) { o.maxBatch = n } }

// WithQueue sets how many appends may wait for the committer.
func WithQueue(n int) Option { return func(o *options) { o.queue = n } }

// Open opens the journal in store's space "journal" and starts its
// committer. Call Close to stop it.
func Open(store *ledger.Store, opts ...Option) (*Journal, error) {
	o := options{log: slog.New(slog.DiscardHandler), clock: time.Now, maxBatch: DefaultMaxBatch, queue: DefaultQueue}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxBatch <= 0 || o.queue <= 0 {
		return nil, fmt.Errorf("journal: max batch (%d) and queue (%d) must be positive", o.maxBatch, o.queue)
	}
	kinds := make(map[Kind]bool)
	for _, k := range append(DefaultKinds(), o.kinds...) {
		if !kindName.MatchString(string(k)) {
			return nil, fmt.Errorf("journal: kind %q: use 1-64 of a-z, 0-9, '_', starting with a letter", k)
		}
		kinds[k] = true
	}
	space, err := store.Space(SpaceName)
	if err != nil {
		return nil, fmt.Errorf("journal: reserve ledger space: %w", err)
	}
	j := &Journal{
		space:    space,
		log:      o.log,
		clock:    o.clock,
		kinds:    kinds,
		maxBatch: o.maxBatch,
		queue:    make(chan []*pending, o.queue),
		done:     make(chan struct{}),
		headHash: make([]byte, HashSize),
	}
	if err := j.loadHead(); err != nil {
		return nil, err
	}
	go j.commitLoop()
	return j, nil
}

func (j *Journal) loadHead() error {
	v, err := j.space.Get(keyHead)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal: read head: %w", err)
	}
	if len(v) != 8+HashSize {
		return fmt.Errorf("journal: head record is %d bytes, want %d: the store is damaged; restore it from a backup", len(v), 8+HashSize)
	}
	j.headSeq, j.headHash = binary.BigEndian.Uint64(v), bytes.Clone(v[8:])
	return nil
}

// Close stops taking appends, commits those already queued, and stops the
// committer. It does not close the store.
func (j *Journal) Close() error {
	j.closeMu.Lock()
	if j.closed {
		j.closeMu.Unlock()
		return nil
	}
	j.closed = true
	close(j.queue)
	j.closeMu.Unlock()
	<-j.done
	return nil
}

// KnownKind reports whether k is in the journal's registry.
func (j *Journal) KnownKind(k Kind) bool { return j.kinds[k] }

// Append records e durably and returns its record. If an entry with the
// same idempotency key exists, Append returns that first record and
// writes nothing (the new entry's other fields are ignored: compare them
// if it matters). If ctx ends first Append returns its error, but the
// entry may still be written: retrying with the same key is safe.
func (j *Journal) Append(ctx context.Context, e Entry) (*Record, error) {
	recs, err := j.AppendAll(ctx, []Entry{e})
	if err != nil {
		return nil, err
	}
	return recs[0], nil
}

// AppendAll records entries durably, in their order, in the same synced
// batch, and returns their records; each entry is idempotent by its key
// as with Append. Many entries that are ready at once cost one synced
// write this way, where concurrent Appends may reach the committer one by
// one and cost a write each. If any entry is invalid nothing is queued.
// On any other error none, some or all of the entries may be written:
// retrying with the same keys is safe.
func (j *Journal) AppendAll(ctx context.Context, entries []Entry) ([]*Record, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	ps := make([]*pending, len(entries))
	for i, e := range entries {
		if err := j.prepare(&e); err != nil {
			return nil, err
		}
		ps[i] = &pending{e: e, res: make(chan result, 1)}
	}
	first := entries[0].Key
	j.closeMu.RLock()
	if j.closed {
		j.closeMu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case j.queue <- ps:
		j.closeMu.RUnlock()
	case <-ctx.Done():
		j.closeMu.RUnlock()
		return nil, fmt.Errorf("journal: append %q not queued: %w", first, ctx.Err())
	}
	recs := make([]*Record, len(ps))
	for i, p := range ps {
		select {
		case r := <-p.res:
			if r.err != nil {
				return nil, r.err
			}
			recs[i] = r.rec
		case <-ctx.Done():
			return nil, fmt.Errorf("journal: append %q queued but not confirmed (it may still be written; retry with the same key): %w", p.e.Key, ctx.Err())
		}
	}
	return recs, nil
}

// prepare checks e and gives it what the journal stores: a known kind, a
// time at nanosecond precision in UTC, and copies of what the caller may
// change after the call.
func (j *Journal) prepare(e *Entry) error {
	if err := e.check(); err != nil {
		return err
	}
	if !j.kinds[e.Kind] {
		return fmt.Errorf("%w %q: register it with journal.WithKinds", ErrUnknownKind, e.Kind)
	}
	if e.Time.IsZero() {
		e.Time = j.clock()
	}
	e.Time = time.Unix(0, e.Time.UnixNano()).UTC()
	e.Payload = bytes.Clone(e.Payload)
	if e.Amount != nil {
		e.Amount = new(big.Int).Set(e.Amount)
	}
	return nil
}

// Head returns the seq and hash of the last durable record (0 and 32 zero
// bytes for an empty journal).
func (j *Journal) Head() (uint64, []byte) {
	j.headMu.RLock()
	defer j.headMu.RUnlock()
	return j.headSeq, bytes.Clone(j.headHash)
}
