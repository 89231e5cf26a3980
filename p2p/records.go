package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
)

// Sentinel errors of the record registry.
var (
	// ErrNotFound is returned by Records.Get when no valid record exists.
	// It is routing.ErrNotFound, so either can be tested with errors.Is.
	ErrNotFound = routing.ErrNotFound
	// ErrUnknownNamespace is returned for records in a namespace nobody
	// registered.
	ErrUnknownNamespace = errors.New("record namespace is not registered")
	// ErrNoPeers is returned by Records.Put when the routing table is empty,
	// so the record could not reach any other node.
	ErrNoPeers = errors.New("no DHT peers")
)

// RecordValidator is a namespace's policy for its records.
type RecordValidator interface {
	// ValidateRecord is called after the registry has decoded the record and
	// checked the DHT key, expiry and signature.
	ValidateRecord(rec *SignedRecord) error
}

// RecordValidatorFunc adapts a function to RecordValidator.
type RecordValidatorFunc func(*SignedRecord) error

// ValidateRecord calls f(rec).
func (f RecordValidatorFunc) ValidateRecord(rec *SignedRecord) error { return f(rec) }

// SignerOwnsKey is a ready-made policy: the record's Key must be the signer's
// peer ID in its string form, so only the owner of a key can write it.
func SignerOwnsKey(rec *SignedRecord) error {
	id, err := peer.IDFromPublicKey(rec.PubKey)
	if err != nil {
		return fmt.Errorf("record signer: %w", err)
	}
	if rec.Key != id.String() {
		return fmt.Errorf("record key %q is not the signer's peer ID %s", rec.Key, id)
	}
	return nil
}

// Records is the registry of record namespaces and the DHT's validator
// (github.com/libp2p/go-libp2p-record Validator). Namespaces can be
// registered at any time; records in other namespaces are refused.
type Records struct {
	log     *slog.Logger
	metrics *metrics

	mu         sync.RWMutex
	validators map[string]RecordValidator
	dht        *dht.IpfsDHT // set once by New, before the Network is returned
}

var _ record.Validator = (*Records)(nil)

func newRecords(log *slog.Logger, m *metrics) *Records {
	return &Records{log: log, metrics: m, validators: make(map[string]RecordValidator)}
}

func (r *Records) setDHT(d *dht.IpfsDHT) {
	r.mu.Lock()
	r.dht = d
	r.mu.Unlock()
}

// Register adds a namespace and its policy. Namespaces are [a-z0-9-]+ and
// can be registered only once.
func (r *Records) Register(namespace string, v RecordValidator) error {
	if err := ValidateNamespace(namespace); err != nil {
		return fmt.Errorf("register record namespace: %w", err)
	}
	if v == nil {
		return fmt.Errorf("register record namespace %q: validator is nil (use RecordValidatorFunc(SignerOwnsKey) or your own policy)", namespace)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.validators[namespace]; dup {
		return fmt.Errorf("register record namespace %q: already registered (each service owns its namespace)", namespace)
	}
	r.validators[namespace] = v
	return nil
}

func (r *Records) validator(namespace string) (RecordValidator, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.validators[namespace]
	return v, ok
}

// Validate implements record.Validator: it decodes value, checks that it
// belongs under key, is not expired, is correctly signed and passes its
// namespace's policy.
func (r *Records) Validate(key string, value []byte) error {
	_, err := r.check(key, value, time.Now())
	return err
}

// check is Validate returning the decoded record; it counts the outcome.
func (r *Records) check(key string, value []byte, now time.Time) (*SignedRecord, error) {
	rec, ns, err := r.checkRecord(key, value, now)
	result := resultAccepted
	if err != nil {
		result = resultRejected
		r.log.Debug("record refused", "key", truncateForLog(key), "err", err)
	}
	r.metrics.records.WithLabelValues(ns, result).Inc()
	return rec, err
}

// checkRecord validates one value. ns is the metrics label: the namespace
// once it is known to be registered, unknownLabel before.
func (r *Records) checkRecord(key string, value []byte, now time.Time) (rec *SignedRecord, ns string, err error) {
	ns, _, ok := splitDHTKey(key)
	if !ok {
		return nil, unknownLabel, fmt.Errorf("record key %q is not a tonmesh key (want /tonmesh-<namespace>/<key>): %w", truncateForLog(key), ErrUnknownNamespace)
	}
	policy, ok := r.validator(ns)
	if !ok {
		return nil, unknownLabel, fmt.Errorf("namespace %q: %w", truncateForLog(ns), ErrUnknownNamespace)
	}
	if rec, err = UnmarshalRecord(value); err != nil {
		return nil, ns, err
	}
	if DHTKey(rec.Namespace, rec.Key) != key {
		return nil, ns, fmt.Errorf("record for %q stored under a different DHT key", DHTKey(rec.Namespace, rec.Key))
	}
	if rec.Expired(now) {
		return nil, ns, fmt.Errorf("record expired at %s", rec.Expires.UTC().Format(time.RFC3339))
	}
	if err := rec.Verify(); err != nil {
		return nil, ns, err
	}
	if err := policy.ValidateRecord(rec); err != nil {
		return nil, ns, fmt.Errorf("namespace %q policy: %w", ns, err)
	}
	return rec, ns, nil
}

// Select implements record.Validator: among the valid values, the highest
// Seq wins, then the later Expires, then the larger encoding (so every node
// picks the same one). Invalid values are never selected.
func (r *Records) Select(key string, vals [][]byte) (int, error) {
	best := -1
	var bestRec *SignedRecord
	now := time.Now()
	for i, v := range vals {
		rec, err := r.check(key, v, now)
		if err != nil {
			continue
		}
		if best < 0 || better(rec, v, bestRec, vals[best]) {
			best, bestRec = i, rec
		}
	}
	if best < 0 {
		return 0, fmt.Errorf("select record for %q: none of %d values is valid", truncateForLog(key), len(vals))
	}
	return best, nil
}

func better(a *SignedRecord, aRaw []byte, b *SignedRecord, bRaw []byte) bool {
	if a.Seq != b.Seq {
		return a.Seq > b.Seq
	}
	if !a.Expires.Equal(b.Expires) {
		return a.Expires.After(b.Expires)
	}
	return bytes.Compare(aRaw, bRaw) > 0
}

func (r *Records) dhtOrErr() (*dht.IpfsDHT, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.dht == nil {
		return nil, errors.New("records: the DHT is not running")
	}
	return r.dht, nil
}

// Put validates rec exactly as remote nodes will, then stores it in the DHT.
// A nil error means the record was valid and sent to the closest peers; the
// DHT cannot prove that any of them kept it (a node that has not registered
// the namespace refuses it). Read it back from another node where it matters.
func (r *Records) Put(ctx context.Context, rec *SignedRecord) error {
	d, err := r.dhtOrErr()
	if err != nil {
		return err
	}
	b, err := rec.Marshal()
	if err != nil {
		return fmt.Errorf("put record: %w", err)
	}
	key := DHTKey(rec.Namespace, rec.Key)
	if _, err := r.check(key, b, time.Now()); err != nil {
		return fmt.Errorf("put record %s: refused locally: %w", key, err)
	}
	if d.RoutingTable().Size() == 0 {
		return fmt.Errorf("put record %s: %w: the record would stay on this node; wait for bootstrap (WaitDHTPeers) and retry", key, ErrNoPeers)
	}
	if err := d.PutValue(ctx, key, b); err != nil {
		return fmt.Errorf("put record %s: %w", key, err)
	}
	return nil
}

// Get finds the best valid record for namespace/key in the DHT. It returns
// an error wrapping ErrNotFound if there is none.
func (r *Records) Get(ctx context.Context, namespace, key string) (*SignedRecord, error) {
	d, err := r.dhtOrErr()
	if err != nil {
		return nil, err
	}
	if err := ValidateNamespace(namespace); err != nil {
		return nil, fmt.Errorf("get record: %w", err)
	}
	if err := validateKey(key); err != nil {
		return nil, fmt.Errorf("get record: %w", err)
	}
	if _, ok := r.validator(namespace); !ok {
		return nil, fmt.Errorf("get record: namespace %q: %w", namespace, ErrUnknownNamespace)
	}
	dk := DHTKey(namespace, key)
	b, err := d.GetValue(ctx, dk)
	if err != nil {
		return nil, fmt.Errorf("get record %s: %w", dk, err)
	}
	rec, err := r.check(dk, b, time.Now())
	if err != nil {
		return nil, fmt.Errorf("get record %s: the DHT returned an invalid record: %w", dk, err)
	}
	return rec, nil
}

// truncateForLog shortens peer-supplied strings before they reach logs or
// error messages.
func truncateForLog(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
