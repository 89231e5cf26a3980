package chat

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/chat/ratchet"
	"github.com/tonmesh/tonmesh/p2p"
)

// prekeyRecordTTL is the lifetime of a published bundle record (the DHT
// keeps values 48 h at most; the bundle is republished every PrekeyRefresh).
const prekeyRecordTTL = 48 * time.Hour

// prekeyRetry is the first delay before retrying a failed publication.
const prekeyRetry = 2 * time.Second

// prekeyState is the node's signed prekeys: the current one (published) and
// the previous one (kept for sessions started from the last bundle).
type prekeyState struct {
	mu      sync.Mutex
	keys    map[uint32]*ecdh.PrivateKey
	created map[uint32]time.Time
	current uint32
	bundle  *ratchet.Bundle
	backoff time.Duration
}

func prekeyKey(id uint32) []byte { return binary.BigEndian.AppendUint32([]byte("pk/"), id) }

// loadPrekeys reads the stored prekeys and makes or rotates the current one
// if needed.
func (s *Service) loadPrekeys(now time.Time) error {
	st := &s.prekeys
	st.mu.Lock()
	defer st.mu.Unlock()
	st.keys = make(map[uint32]*ecdh.PrivateKey)
	st.created = make(map[uint32]time.Time)
	err := s.space.Iterate([]byte("pk/"), func(k, v []byte) error {
		if len(k) != 7 || len(v) != 8+32+ratchet.BundleSize {
			return fmt.Errorf("chat: stored prekey %x is malformed", k)
		}
		id := binary.BigEndian.Uint32(k[3:])
		priv, err := ecdh.X25519().NewPrivateKey(v[8:40])
		if err != nil {
			return fmt.Errorf("chat: stored prekey %d: %w", id, err)
		}
		b, err := ratchet.UnmarshalBundle(v[40:])
		if err != nil {
			return fmt.Errorf("chat: stored prekey bundle %d: %w", id, err)
		}
		st.keys[id] = priv
		st.created[id] = time.UnixMilli(int64(binary.BigEndian.Uint64(v)))
		if id >= st.current {
			st.current, st.bundle = id, b
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("chat: load prekeys: %w", err)
	}
	return s.rotateLocked(now)
}

// rotateLocked makes a new current prekey when there is none or it is older
// than PrekeyRotate, drops all but the current and previous ones, and
// rebuilds the bundle. prekeys.mu is held.
func (s *Service) rotateLocked(now time.Time) error {
	st := &s.prekeys
	if _, ok := st.keys[st.current]; !ok || now.Sub(st.created[st.current]) >= s.cfg.PrekeyRotate {
		next := st.current + 1
		b, priv, err := ratchet.NewSignedPrekey(s.sign, s.id.EncKey, next)
		if err != nil {
			return fmt.Errorf("chat: make a prekey: %w", err)
		}
		raw, err := b.MarshalBinary()
		if err != nil {
			return fmt.Errorf("chat: encode the new prekey bundle: %w", err)
		}
		v := binary.BigEndian.AppendUint64(nil, uint64(now.UnixMilli()))
		v = append(append(v, priv.Bytes()...), raw...)
		batch := s.space.NewBatch()
		batch.Set(prekeyKey(next), v)
		for id := range st.keys {
			if id+1 < next {
				batch.Delete(prekeyKey(id))
			}
		}
		if err := batch.Commit(); err != nil {
			return fmt.Errorf("chat: store the new prekey: %w", err)
		}
		for id := range st.keys {
			if id+1 < next {
				delete(st.keys, id)
				delete(st.created, id)
			}
		}
		st.keys[next], st.created[next], st.current, st.bundle = priv, now, next, b
		s.log.Info("chat prekey rotated", "prekey_id", next)
		return nil
	}
	if st.bundle == nil || st.bundle.PrekeyID != st.current {
		return fmt.Errorf("chat: the stored bundle of prekey %d is missing", st.current)
	}
	return nil
}

// prekeyMap is a copy of the prekeys Respond may use.
func (s *Service) prekeyMap() map[uint32]*ecdh.PrivateKey {
	st := &s.prekeys
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make(map[uint32]*ecdh.PrivateKey, len(st.keys))
	for id, k := range st.keys {
		out[id] = k
	}
	return out
}

// publishLoopStep rotates if due and publishes the bundle. It returns the
// delay before the next step: PrekeyRefresh after success, a growing retry
// delay after a failure.
func (s *Service) publishLoopStep(ctx context.Context) time.Duration {
	err := s.PublishPrekeys(ctx)
	st := &s.prekeys
	st.mu.Lock()
	defer st.mu.Unlock()
	if err == nil {
		st.backoff = 0
		return s.cfg.PrekeyRefresh
	}
	if ctx.Err() == nil {
		s.log.Debug("publish chat prekeys; will retry", "err", err)
	}
	st.backoff = min(max(2*st.backoff, prekeyRetry), time.Minute)
	return st.backoff
}

// PublishPrekeys rotates the prekey if it is due and puts the bundle in the
// DHT under this node's peer ID.
func (s *Service) PublishPrekeys(ctx context.Context) error {
	st := &s.prekeys
	st.mu.Lock()
	if err := s.rotateLocked(time.Now()); err != nil {
		st.mu.Unlock()
		return err
	}
	b := st.bundle
	st.mu.Unlock()
	raw, err := b.MarshalBinary()
	if err != nil {
		return fmt.Errorf("chat: encode the prekey bundle: %w", err)
	}
	rec, err := p2p.NewSignedRecord(s.id.PeerKey, PrekeyNamespace, s.self.String(), uint64(time.Now().UnixMilli()), prekeyRecordTTL, raw)
	if err != nil {
		return fmt.Errorf("chat: sign the prekey record: %w", err)
	}
	if err := s.net.Records().Put(ctx, rec); err != nil {
		return fmt.Errorf("chat: publish the prekey bundle: %w", err)
	}
	return nil
}

// validatePrekeyRecord is the policy of PrekeyNamespace: the record is the
// signer's own, holds a well-formed bundle whose prekey signature verifies,
// and the bundle was signed by the record's signer.
func validatePrekeyRecord(rec *p2p.SignedRecord) error {
	if err := p2p.SignerOwnsKey(rec); err != nil {
		return err
	}
	b, err := ratchet.UnmarshalBundle(rec.Value)
	if err != nil {
		return fmt.Errorf("prekey bundle: %w", err)
	}
	if err := b.Verify(); err != nil {
		return fmt.Errorf("prekey bundle: %w", err)
	}
	raw, err := rec.PubKey.Raw()
	if err != nil || !bytes.Equal(raw, b.SigningKey) {
		return errors.New("prekey bundle: signed by another key than the record's signer")
	}
	return nil
}

// fetchBundle finds p's prekey bundle in the DHT.
func (s *Service) fetchBundle(ctx context.Context, p peer.ID) (*ratchet.Bundle, error) {
	rec, err := s.net.Records().Get(ctx, PrekeyNamespace, p.String())
	if err != nil {
		if errors.Is(err, p2p.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s has published no chat prekeys (is it a tonmesh node that was online in the last 48 h?)", ErrNoPrekeys, p)
		}
		return nil, fmt.Errorf("chat: find the prekeys of %s: %w", p, err)
	}
	b, err := ratchet.UnmarshalBundle(rec.Value)
	if err != nil {
		return nil, fmt.Errorf("chat: prekeys of %s: %w", p, err)
	}
	return b, nil
}

// ErrNoPrekeys is returned by Send when the recipient's bundle is not found.
var ErrNoPrekeys = errors.New("chat: no prekeys for the recipient")
