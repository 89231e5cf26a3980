package shard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/p2p"
)

// maxDeleteSkew is how far a delete's signed time may be from the holder's
// clock.
const maxDeleteSkew = 10 * time.Minute

// Defaults of HolderConfig.
const (
	DefaultQuota   = 1 << 30
	DefaultTimeout = 2 * time.Minute
)

// errStopped refuses streams that arrive while the holder stops.
var errStopped = errors.New("shard holder is stopped")

// HolderConfig limits what a node holds for others; zero fields take the
// defaults.
type HolderConfig struct {
	Quota    int64         // bytes of shards in all (DefaultQuota, 1 GiB)
	MaxShard int           // largest shard accepted (MaxShardSize; never more)
	Timeout  time.Duration // deadline of one stream (DefaultTimeout)
}

func (c *HolderConfig) setDefaults() {
	if c.Quota <= 0 {
		c.Quota = DefaultQuota
	}
	if c.MaxShard <= 0 || c.MaxShard > MaxShardSize {
		c.MaxShard = MaxShardSize
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
}

// HolderStats is a snapshot of what the holder keeps.
type HolderStats struct {
	Shards int
	Used   int64 // bytes of stored shards
	Quota  int64
}

// Holder keeps shards for other peers and serves Protocol.
type Holder struct {
	cfg   HolderConfig
	log   *slog.Logger
	net   *p2p.Network
	store shardStore
	self  peer.ID
	key   crypto.PrivKey

	// commitMu serialises the store writes that change what is held (put,
	// delete, drop), so that the counters below follow the store exactly.
	commitMu sync.Mutex

	mu       sync.Mutex
	shards   int
	used     int64
	reserved int64              // bytes of new shards in transfer
	inflight map[string]*flight // CID key → the puts of that new shard in transfer
	started  bool
	stopped  bool
	ctx      context.Context // ends at Stop
	cancel   context.CancelFunc
	active   sync.WaitGroup // running stream handlers; Add only under mu while !stopped
}

// flight is the quota reserved for a new shard while puts transfer it.
type flight struct {
	size int // bytes reserved
	puts int // transfers sharing the reservation
}

// NewHolder takes the store space SpaceName and counts what it holds. Start
// serves Protocol.
func NewHolder(store *ledger.Store, net *p2p.Network, cfg HolderConfig, log *slog.Logger) (*Holder, error) {
	if store == nil || net == nil {
		return nil, errors.New("shard: NewHolder needs a store and a network")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	key := net.Host().Peerstore().PrivKey(net.ID())
	if key == nil {
		return nil, errors.New("shard: the network's peer key is not in its peerstore; receipts cannot be signed")
	}
	sp, err := store.Space(SpaceName)
	if err != nil {
		return nil, fmt.Errorf("shard: %w", err)
	}
	h := &Holder{
		cfg:   cfg,
		log:   log.With("component", "vault-shard"),
		net:   net,
		store: shardStore{sp},
		self:  net.ID(),
		key:   key,

		inflight: make(map[string]*flight),
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	if h.shards, h.used, err = h.store.usage(); err != nil {
		return nil, err
	}
	if h.used > cfg.Quota {
		h.log.Warn("held shards exceed the quota; new shards are refused until some are deleted", "used", h.used, "quota", cfg.Quota)
	}
	return h, nil
}

// Start serves Protocol until Stop. ctx is not retained.
func (h *Holder) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("shard: start holder: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return errors.New("shard: holder was stopped; make a new one with NewHolder")
	}
	if h.started {
		return nil
	}
	h.started = true
	h.net.Handle(Protocol, h.serve, h.cfg.Timeout)
	h.log.Info("shard holder serving", "shards", h.shards, "used", h.used, "quota", h.cfg.Quota)
	return nil
}

// Stop stops serving, aborts transfers in progress (which store nothing)
// and waits for running handlers. It is safe to call more than once.
func (h *Holder) Stop() {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return
	}
	h.stopped = true
	started := h.started
	h.mu.Unlock()
	if started {
		h.net.RemoveHandler(Protocol)
	}
	h.cancel()
	h.active.Wait()
}

// Stats returns what the holder keeps now.
func (h *Holder) Stats() HolderStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return HolderStats{Shards: h.shards, Used: h.used, Quota: h.cfg.Quota}
}

// CorruptForTest flips one byte of the stored shard c (rewriting its stored
// bytes, meta unchanged), as disk corruption would. TEST ONLY: it exists so
// that tests of this package and of the vault's repair can damage a shard;
// nothing in tonmesh's code paths calls it.
func (h *Holder) CorruptForTest(c cid.Cid) error {
	data, err := h.store.data(c)
	if err != nil {
		return fmt.Errorf("shard: corrupt %s: %w", c, err)
	}
	data[len(data)/2] ^= 0xff
	return h.store.sp.Set(dataKey(c), data)
}

// enter registers a running handler; false once the holder stops.
func (h *Holder) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return false
	}
	h.active.Add(1)
	return true
}

// serve answers one stream. A returned error resets the stream.
func (h *Holder) serve(ctx context.Context, s network.Stream) error {
	if !h.enter() {
		return errStopped
	}
	defer h.active.Done()
	// Unblock reads and writes when the stream's deadline passes or the
	// holder stops.
	stopA := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stopA()
	stopB := context.AfterFunc(h.ctx, func() { _ = s.Reset() })
	defer stopB()

	from := s.Conn().RemotePeer()
	hdr, err := p2p.ReadFrame(s, maxHeader)
	if err != nil {
		return fmt.Errorf("read request header from %s: %w", from, err)
	}
	q, err := decodeRequest(hdr)
	if err != nil {
		return h.answer(s, opGet, &response{Status: statusRefused, Reason: err.Error()})
	}
	switch q.Op {
	case opPut:
		return h.servePut(s, from, q)
	case opGet:
		return h.serveGet(s, q)
	case opChallenge:
		return h.serveChallenge(s, q)
	default: // opDelete; decodeRequest allows no other
		return h.answer(s, opDelete, h.delete(q))
	}
}

// answer writes one response frame.
func (h *Holder) answer(s network.Stream, op byte, r *response) error {
	if err := p2p.WriteFrame(s, r.encode(op)); err != nil {
		return fmt.Errorf("write shard response: %w", err)
	}
	return nil
}

// intact returns c's bytes if the holder has them and they match c. A shard
// that fails its CID check is dropped and reported as not found, so that
// its owner rebuilds it.
func (h *Holder) intact(c cid.Cid) ([]byte, *response) {
	m, err := h.store.meta(c)
	if errors.Is(err, ErrNotFound) {
		return nil, &response{Status: statusNotFound, Reason: "this holder has no shard " + c.String()}
	}
	if err != nil {
		h.log.Error("read shard meta", "cid", c, "err", err)
		return nil, &response{Status: statusError, Reason: "reading the shard failed on the holder"}
	}
	data, err := h.store.data(c)
	if err != nil && !errors.Is(err, ErrNotFound) {
		h.log.Error("read shard", "cid", c, "err", err)
		return nil, &response{Status: statusError, Reason: "reading the shard failed on the holder"}
	}
	if err == nil && len(data) == m.Size && CheckCID(c, data) {
		return data, nil
	}
	h.log.Warn("stored shard fails its CID check; dropping it", "cid", c)
	if err := h.drop(c, m.Size); err != nil {
		h.log.Error("drop corrupted shard", "cid", c, "err", err)
	}
	return nil, &response{Status: statusNotFound, Reason: "shard " + c.String() + " was corrupted on the holder and dropped; rebuild it"}
}

func (h *Holder) serveGet(s network.Stream, q *request) error {
	data, fail := h.intact(q.CID)
	if fail != nil {
		return h.answer(s, opGet, fail)
	}
	if err := h.answer(s, opGet, &response{Status: statusOK}); err != nil {
		return err
	}
	if err := p2p.WriteFrame(s, data); err != nil {
		return fmt.Errorf("send shard %s: %w", q.CID, err)
	}
	return nil
}

func (h *Holder) serveChallenge(s network.Stream, q *request) error {
	data, fail := h.intact(q.CID)
	if fail != nil {
		return h.answer(s, opChallenge, fail)
	}
	return h.answer(s, opChallenge, &response{Status: statusOK, Answer: ChallengeAnswer(q.Nonce, data)})
}

// delete removes a shard on a request signed by one of its delete keys.
func (h *Holder) delete(q *request) *response {
	h.commitMu.Lock()
	defer h.commitMu.Unlock()
	m, err := h.store.meta(q.CID)
	if errors.Is(err, ErrNotFound) {
		return &response{Status: statusNotFound, Reason: "this holder has no shard " + q.CID.String()}
	}
	if err != nil {
		h.log.Error("read shard meta", "cid", q.CID, "err", err)
		return &response{Status: statusError, Reason: "reading the shard failed on the holder"}
	}
	if d := time.Since(q.At); d > maxDeleteSkew || d < -maxDeleteSkew {
		return &response{Status: statusRefused, Reason: fmt.Sprintf("delete signed at %s, more than %v from the holder's clock: check your clock and sign again",
			q.At.UTC().Format(time.RFC3339), maxDeleteSkew)}
	}
	msg := deleteMessage(q.CID, h.self, q.At)
	if !verifyAny(m.Keys, msg, q.Sig) {
		return &response{Status: statusRefused, Reason: "delete signature does not match the shard's delete key (or was made for another holder)"}
	}
	if err := h.removeLocked(q.CID, m.Size); err != nil {
		h.log.Error("delete shard", "cid", q.CID, "err", err)
		return &response{Status: statusError, Reason: "deleting the shard failed on the holder"}
	}
	h.log.Debug("shard deleted on its owner's request", "cid", q.CID)
	return &response{Status: statusOK}
}

// drop removes a shard that failed its CID check.
func (h *Holder) drop(c cid.Cid, size int) error {
	h.commitMu.Lock()
	defer h.commitMu.Unlock()
	if _, err := h.store.meta(c); errors.Is(err, ErrNotFound) {
		return nil // dropped meanwhile
	}
	return h.removeLocked(c, size)
}

// removeLocked deletes c and updates the counters; commitMu is held.
func (h *Holder) removeLocked(c cid.Cid, size int) error {
	if err := h.store.remove(c); err != nil {
		return err
	}
	h.mu.Lock()
	h.shards--
	h.used -= int64(size)
	h.mu.Unlock()
	return nil
}
