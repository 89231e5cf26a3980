package vault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/tonmesh/tonmesh/vault/passport"
	"github.com/tonmesh/tonmesh/vault/shard"
)

// Names the vault owns.
const (
	// Namespace is the DHT record namespace of sealed manifests, keyed by
	// the owner's peer ID.
	Namespace = "vault"
	// SpaceName is the store space of the owner's local manifest.
	SpaceName = "vault"
)

// manifestTTL is the lifetime of a published manifest record (the DHT's
// own limit is 48 h; the republish timer renews it).
const manifestTTL = 48 * time.Hour

// publishRetry is the delay before publishing again after a failure (at
// start the node may not have DHT peers yet).
const publishRetry = 30 * time.Second

// Timeouts of one exchange with a holder.
const (
	transferTimeout  = 2 * time.Minute  // Put or Get of one shard
	challengeTimeout = 15 * time.Second // Challenge or Delete
	lookupTimeout    = 10 * time.Second // DHT closest-peer lookup
)

// Errors callers can test with errors.Is.
var (
	// ErrNotFound: the vault has no element of that type.
	ErrNotFound = errors.New("vault: no such element")
	// ErrInvalid: the element failed validation; the message names the field.
	ErrInvalid = errors.New("vault: invalid element")
	// ErrNotEnoughPeers: fewer peers than shards could take a shard.
	ErrNotEnoughPeers = errors.New("vault: not enough peers")
	// ErrUnavailable: fewer than k shards of an element could be fetched.
	ErrUnavailable = errors.New("vault: element unavailable")
	// ErrNoManifest: the DHT has no manifest for this identity.
	ErrNoManifest = errors.New("vault: no manifest published for this identity")
)

// Config tunes the vault; zero fields take the defaults shown.
type Config struct {
	// K and N: any K of an element's N shards restore it (4 of 6).
	K, N int
	// Quota bounds the shards this node holds for others (1 GiB).
	Quota int64
	// AuditInterval is how often every shard is checked and repaired (10m).
	AuditInterval time.Duration
	// ManifestRepublish is how often the manifest is published again
	// (12h; DHT values expire after 48 h).
	ManifestRepublish time.Duration
	// RepairThreshold: an element is repaired when fewer of its shards than
	// this pass the audit (K+1 of the element). A shard a holder answered
	// for wrongly or lost is always replaced.
	RepairThreshold int
	// ReplaceAfter: a shard whose holder has not answered any check for
	// this long is rebuilt on another peer even while the element has
	// RepairThreshold passing shards (6h), so holders that left for good
	// are replaced before enough of them leave to put the element at risk;
	// a short absence (a restart, a network blip) replaces nothing.
	ReplaceAfter time.Duration

	// hedgeScale multiplies the read hedging delays (fetch.go); tests
	// stretch them to count exactly which holders a read asks. 0 is 1.
	hedgeScale time.Duration
	// afterChunk, when set, is called by a striped put's sender to
	// holder once it has sent its chunk of stripe j (tests cut holders
	// off midway).
	afterChunk func(holder peer.ID, j int)
	// segment is the plaintext bytes per stripe of a striped put; tests
	// make it small to have many stripes. 0 is shard.DefaultSegment.
	segment int
	// ringReturned, when set, sees a striped put's ring memory as it goes
	// back to the pool (tests look for plaintext left in it).
	ringReturned func(mem []byte)
}

func (c *Config) setDefaults() {
	if c.K <= 0 {
		c.K = 4
	}
	if c.N <= 0 {
		c.N = max(6, c.K)
	}
	if c.Quota <= 0 {
		c.Quota = 1 << 30
	}
	if c.AuditInterval <= 0 {
		c.AuditInterval = 10 * time.Minute
	}
	if c.ManifestRepublish <= 0 {
		c.ManifestRepublish = 12 * time.Hour
	}
	if c.ReplaceAfter <= 0 {
		c.ReplaceAfter = 6 * time.Hour
	}
	if c.hedgeScale <= 0 {
		c.hedgeScale = 1
	}
	if c.segment <= 0 {
		c.segment = shard.DefaultSegment
	}
}

func (c *Config) check() error {
	if c.K > c.N || c.N > maxShards {
		return fmt.Errorf("vault: config: %d of %d shards: need 1 <= k <= n <= %d", c.K, c.N, maxShards)
	}
	return nil
}

// Vault is one identity's passport vault: its elements stored as shards on
// other peers, and this node's part as a holder of others' shards.
type Vault struct {
	cfg    Config
	log    *slog.Logger
	net    *p2p.Network
	id     *identity.Identity
	self   peer.ID
	keys   *ownerKeys
	space  *ledger.Space
	holder *shard.Holder

	mu      sync.Mutex // guards the fields below
	man     *manifest  // the authoritative local manifest
	adopted bool       // the DHT was checked for an older manifest before the first change

	publishMu sync.Mutex    // one DHT publication at a time
	published uint64        // Seq of the last manifest published; under publishMu
	auditMu   sync.Mutex    // one audit pass at a time
	kick      chan struct{} // asks the publish loop to publish now

	bufs   bufPool // memory of shards and plaintext, reused between puts and reads
	chunks bufPool // memory of streamed reads' chunks (ciphertext only), reused between reads
	rings  bufPool // memory of streamed puts' stripes (cleared unless all sealed), reused between puts

	shardReads  atomic.Int64 // shard requests that reads sent to holders
	openRefused atomic.Int64 // streamed puts a holder refused at their header
	rebuiltPuts atomic.Int64 // shards of streamed puts rebuilt after their holder failed midway
	reopened    atomic.Int64 // stripes a read did not open from the first K chunks it tried
	readChunks  atomic.Int64 // chunk buffers streamed reads took
	stripesRead atomic.Int64 // stripes streamed reads opened

	runMu   sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New prepares the vault: it takes the "vault" store space, loads the local
// manifest, creates this node's shard holder and registers the manifest
// record namespace. Start serves and starts the background work.
func New(store *ledger.Store, net *p2p.Network, id *identity.Identity, cfg Config, log *slog.Logger) (*Vault, error) {
	if store == nil || net == nil || id == nil || id.PeerKey == nil {
		return nil, errors.New("vault: New needs a store, a network and an identity")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	keys, err := deriveKeys(id)
	if err != nil {
		return nil, err
	}
	v := &Vault{
		cfg:  cfg,
		log:  log.With("component", "vault"),
		net:  net,
		id:   id,
		self: id.PeerID(),
		keys: keys,
		kick: make(chan struct{}, 1),
	}
	if v.space, err = store.Space(SpaceName); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	if v.man, err = v.loadManifest(); err != nil {
		return nil, err
	}
	v.adopted = v.man.Seq > 0
	if v.holder, err = shard.NewHolder(store, net, shard.HolderConfig{Quota: cfg.Quota}, log); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	if err := net.Records().Register(Namespace, p2p.RecordValidatorFunc(validateManifestRecord)); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return v, nil
}

// validateManifestRecord is the policy of Namespace: only the owner writes
// its key. The value is sealed; only the owner can check more.
func validateManifestRecord(rec *p2p.SignedRecord) error {
	return p2p.SignerOwnsKey(rec)
}

// Start serves shards to other owners and starts the audit and republish
// loops. Stop ends them.
func (v *Vault) Start(ctx context.Context) error {
	v.runMu.Lock()
	defer v.runMu.Unlock()
	if v.started || v.stopped {
		return errors.New("vault: Start called twice or after Stop")
	}
	if err := v.holder.Start(ctx); err != nil {
		return fmt.Errorf("vault: start shard holder: %w", err)
	}
	v.started = true
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	v.cancel = cancel
	v.wg.Add(2)
	go v.publishLoop(runCtx)
	go v.auditLoop(runCtx)
	v.log.Info("vault started", "peer", v.self, "k", v.cfg.K, "n", v.cfg.N)
	return nil
}

// Stop stops the loops and the shard holder. It is safe to call more than
// once and without Start.
func (v *Vault) Stop() {
	v.runMu.Lock()
	if v.stopped {
		v.runMu.Unlock()
		return
	}
	v.stopped = true
	started, cancel := v.started, v.cancel
	v.runMu.Unlock()
	if !started {
		return
	}
	cancel()
	v.wg.Wait()
	v.holder.Stop()
}

// finalPublish bounds the publication of a change still pending at Stop.
const finalPublish = 10 * time.Second

// publishDelay gathers the changes of a burst (an element replaced, added,
// deleted) into one publication.
const publishDelay = 100 * time.Millisecond

// publishLoop publishes the manifest at start, after every change (kick;
// the changes of publishDelay in one publication) and every
// ManifestRepublish, retrying sooner after a failure. At Stop it
// publishes a change not published yet, so that a node stopped right after
// an Add leaves its manifest in the DHT.
func (v *Vault) publishLoop(ctx context.Context) {
	defer v.wg.Done()
	next := time.Duration(0)
	for {
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			v.publishPending()
			return
		case <-t.C:
		case <-v.kick:
			t.Stop()
			wait := time.NewTimer(publishDelay)
			select {
			case <-ctx.Done():
				wait.Stop()
				v.publishPending()
				return
			case <-wait.C:
			}
			select { // changes made meanwhile are published now
			case <-v.kick:
			default:
			}
		}
		next = v.cfg.ManifestRepublish
		if err := v.publish(ctx); err != nil {
			v.log.Debug("manifest publication failed; retrying soon", "err", err)
			next = min(next, publishRetry)
		}
	}
}

// auditLoop runs Audit every AuditInterval.
func (v *Vault) auditLoop(ctx context.Context) {
	defer v.wg.Done()
	t := time.NewTicker(v.cfg.AuditInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rep, err := v.Audit(ctx)
		if err != nil {
			v.log.Warn("vault audit failed", "err", err)
			continue
		}
		if rep.Lost+rep.Unreachable+rep.Repaired > 0 {
			v.log.Info("vault audit", "shards", rep.Shards, "healthy", rep.Healthy, "unreachable", rep.Unreachable, "lost", rep.Lost, "repaired", rep.Repaired)
		}
	}
}

// publishPending publishes the manifest if it changed since it was last
// published.
func (v *Vault) publishPending() {
	v.publishMu.Lock()
	done := v.published
	v.publishMu.Unlock()
	if v.snapshotSeq() == done {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), finalPublish)
	defer cancel()
	if err := v.publish(ctx); err != nil {
		v.log.Warn("manifest not published before stopping; it is published at the next start", "err", err)
	}
}

// kickPublish asks the publish loop to publish soon (no-op when one is
// already pending or the loop is not running).
func (v *Vault) kickPublish() {
	select {
	case v.kick <- struct{}{}:
	default:
	}
}

// PeerID is the identity whose vault this is.
func (v *Vault) PeerID() peer.ID { return v.self }

// HolderStats reports what this node holds for others.
func (v *Vault) HolderStats() shard.HolderStats { return v.holder.Stats() }

// threshold is the number of passing shards below which e is repaired.
func (v *Vault) threshold(e *elementEntry) int {
	if v.cfg.RepairThreshold > 0 {
		return min(v.cfg.RepairThreshold, e.N)
	}
	return min(e.K+1, e.N)
}

// typeOf checks t.
func typeOf(t passport.ElementType) error {
	if !t.Valid() {
		_, err := passport.ParseType(string(t))
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}
