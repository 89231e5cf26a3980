package shard

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
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

	// commitMu serialises the store writes that change what is held (a
	// commit round, delete, drop), so that the counters below follow the
	// store exactly.
	commitMu sync.Mutex
	// queue feeds the committer (commit.go) from Start until Stop.
	queue      chan *pendingCommit
	commitDone chan struct{}

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
	// stored: the shard is committed and its bytes count in used; the
	// reservation was released with that, in the same critical section,
	// so that no reserve sees the bytes twice.
	stored bool
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
		store: shardStore{sp: sp, dir: filepath.Join(store.Dir(), FilesDir)},
		self:  net.ID(),
		key:   key,

		inflight:   make(map[string]*flight),
		queue:      make(chan *pendingCommit, maxRound),
		commitDone: make(chan struct{}),
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	if err := h.store.openDir(); err != nil {
		return nil, err
	}
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
	go h.commitLoop()
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
	if started {
		// No handler is left to submit a commit.
		close(h.queue)
		<-h.commitDone
	}
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
	m, err := h.store.meta(c)
	if err != nil {
		return fmt.Errorf("shard: corrupt %s: %w", c, err)
	}
	if m.File {
		f, err := os.OpenFile(h.store.path(c), os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("shard: corrupt %s: %w", c, err)
		}
		defer f.Close()
		var b [1]byte
		at := int64(m.Size / 2)
		if _, err := f.ReadAt(b[:], at); err != nil {
			return fmt.Errorf("shard: corrupt %s: %w", c, err)
		}
		b[0] ^= 0xff
		_, err = f.WriteAt(b[:], at)
		return err
	}
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
	case opPutStream:
		return h.servePutStream(s, from, q)
	case opGet:
		return h.serveGet(s, q)
	case opChallenge:
		return h.serveChallenge(s, q)
	case opProve:
		return h.serveProve(s, q)
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

// held is an intact stored shard, opened for reading: its bytes in memory
// (data), or its file positioned at the start (f). close releases it.
type held struct {
	m    *meta
	data []byte
	f    *os.File
}

func (x *held) close() {
	if x.f != nil {
		x.f.Close()
	}
}

// copyBuf is the size of the buffers that stream shard bytes.
const copyBuf = 256 << 10

// writebackChunk is how many bytes of a shard file a holder lets arrive
// before it asks the kernel to start writing them out (startWriteback).
const writebackChunk = 1 << 20

// copyBufs recycles the buffers of copyBuf bytes that stream shard files
// (a put, a get and its re-hash each took a fresh one).
var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBuf); return &b }}

func getCopyBuf() []byte  { return *copyBufs.Get().(*[]byte) }
func putCopyBuf(b []byte) { copyBufs.Put(&b) }

// readMode is how intact reads a file shard's bytes.
type readMode int

const (
	checkFile  readMode = iota // hash the file, then hand it back positioned at its start
	inMemory                   // read the file into memory and hash that
	checkLater                 // open the file unhashed: the caller hashes it as it sends it (serveGet)
)

// intact opens c if the holder has it and its bytes match c (a file
// shard's as mode says). A shard that fails its CID check is dropped and
// reported as not found, so that its owner rebuilds it.
func (h *Holder) intact(c cid.Cid, mode readMode) (*held, *response) {
	m, err := h.store.meta(c)
	if errors.Is(err, ErrNotFound) {
		return nil, &response{Status: statusNotFound, Reason: "this holder has no shard " + c.String()}
	}
	if err != nil {
		h.log.Error("read shard meta", "cid", c, "err", err)
		return nil, &response{Status: statusError, Reason: "reading the shard failed on the holder"}
	}
	x, ok, err := h.readHeld(c, m, mode)
	if err != nil {
		h.log.Error("read shard", "cid", c, "err", err)
		return nil, &response{Status: statusError, Reason: "reading the shard failed on the holder"}
	}
	if ok {
		return x, nil
	}
	h.dropCorrupt(c)
	return nil, &response{Status: statusNotFound, Reason: "shard " + c.String() + " was corrupted on the holder and dropped; rebuild it"}
}

// dropCorrupt drops c, whose stored bytes failed its CID check.
func (h *Holder) dropCorrupt(c cid.Cid) {
	h.log.Warn("stored shard fails its CID check; dropping it", "cid", c)
	if err := h.drop(c); err != nil {
		h.log.Error("drop corrupted shard", "cid", c, "err", err)
	}
}

// readHeld opens c's bytes and checks them against c (ok), a file shard's
// only for its size with checkLater. Missing bytes are not an error: they
// fail the check.
func (h *Holder) readHeld(c cid.Cid, m *meta, mode readMode) (x *held, ok bool, err error) {
	if !m.File {
		data, err := h.store.data(c)
		if errors.Is(err, ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		return &held{m: m, data: data}, len(data) == m.Size && CheckCID(c, data), nil
	}
	f, err := os.Open(h.store.path(c))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	x = &held{m: m, f: f}
	if st, err := f.Stat(); err != nil || st.Size() != int64(m.Size) {
		x.close()
		return nil, false, err
	}
	switch mode {
	case checkLater:
		return x, true, nil
	case inMemory:
		x.data = make([]byte, m.Size)
		if _, err := io.ReadFull(f, x.data); err != nil {
			x.close()
			return nil, false, err
		}
		return x, CheckCID(c, x.data), nil
	}
	hh := newCIDHash(c)
	buf := getCopyBuf()
	_, err = io.CopyBuffer(hh, struct{ io.Reader }{f}, buf) // f's WriteTo would copy by 32 KiB
	putCopyBuf(buf)
	if err != nil {
		x.close()
		return nil, false, err
	}
	if !bytes.Equal(hh.Sum(nil), digestOf(c)) {
		x.close()
		return nil, false, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		x.close()
		return nil, false, err
	}
	return x, true, nil
}

// serveGet sends shard q.CID. A file shard is hashed as it is sent, in
// one pass over the file, so that its bytes start to flow at once: when
// they fail the CID check at the end, the holder drops the shard before it
// closes the stream, and the reader, which checks every byte against the
// CID itself, reports ErrCorrupt (later requests find no shard).
func (h *Holder) serveGet(s network.Stream, q *request) error {
	x, fail := h.intact(q.CID, checkLater)
	if fail != nil {
		return h.answer(s, opGet, fail)
	}
	defer x.close()
	if err := h.answer(s, opGet, &response{Status: statusOK}); err != nil {
		return err
	}
	if x.f == nil {
		if err := p2p.WriteFrame(s, x.data); err != nil {
			return fmt.Errorf("send shard %s: %w", q.CID, err)
		}
		return nil
	}
	if _, err := s.Write(binary.AppendUvarint(nil, uint64(x.m.Size))); err != nil {
		return fmt.Errorf("send shard %s: %w", q.CID, err)
	}
	hh := newCIDHash(q.CID)
	buf := getCopyBuf()
	defer putCopyBuf(buf)
	for sent := 0; sent < x.m.Size; {
		k, err := io.ReadFull(x.f, buf[:min(len(buf), x.m.Size-sent)])
		if err != nil {
			return fmt.Errorf("send shard %s: read its file after %d of %d bytes: %w", q.CID, sent, x.m.Size, err)
		}
		hh.Write(buf[:k])
		if _, err := s.Write(buf[:k]); err != nil {
			return fmt.Errorf("send shard %s: %d of %d bytes: %w", q.CID, sent, x.m.Size, err)
		}
		sent += k
	}
	if !bytes.Equal(hh.Sum(nil), digestOf(q.CID)) {
		// The stream is closed, not reset, once the shard is dropped: the
		// reader, which has all the bytes, fails them itself (ErrCorrupt).
		h.dropCorrupt(q.CID)
	}
	return nil
}

func (h *Holder) serveChallenge(s network.Stream, q *request) error {
	x, fail := h.intact(q.CID, inMemory)
	if fail != nil {
		return h.answer(s, opChallenge, fail)
	}
	x.close()
	return h.answer(s, opChallenge, &response{Status: statusOK, Answer: ChallengeAnswer(q.Nonce, x.data)})
}

func (h *Holder) serveProve(s network.Stream, q *request) error {
	if !Provable(q.CID) {
		return h.answer(s, opProve, &response{Status: statusRefused, Reason: "only BLAKE3 shards are proved; challenge this one"})
	}
	x, fail := h.intact(q.CID, inMemory)
	if fail != nil {
		return h.answer(s, opProve, fail)
	}
	x.close()
	proof, err := makeProof(x.data, q.Nonce)
	if err != nil {
		h.log.Error("make proof", "cid", q.CID, "err", err)
		return h.answer(s, opProve, &response{Status: statusError, Reason: "making the proof failed on the holder"})
	}
	return h.answer(s, opProve, &response{Status: statusOK, Proof: proof})
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
	if err := h.removeLocked(q.CID, m); err != nil {
		h.log.Error("delete shard", "cid", q.CID, "err", err)
		return &response{Status: statusError, Reason: "deleting the shard failed on the holder"}
	}
	h.log.Debug("shard deleted on its owner's request", "cid", q.CID)
	return &response{Status: statusOK}
}

// drop removes a shard that failed its CID check.
func (h *Holder) drop(c cid.Cid) error {
	h.commitMu.Lock()
	defer h.commitMu.Unlock()
	m, err := h.store.meta(c)
	if errors.Is(err, ErrNotFound) {
		return nil // dropped meanwhile
	}
	if err != nil {
		return err
	}
	return h.removeLocked(c, m)
}

// removeLocked deletes c and updates the counters; commitMu is held.
func (h *Holder) removeLocked(c cid.Cid, m *meta) error {
	if err := h.store.remove(c, m); err != nil {
		return err
	}
	h.mu.Lock()
	h.shards--
	h.used -= int64(m.Size)
	h.mu.Unlock()
	return nil
}
