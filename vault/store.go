package vault

import (
	"context"
	"errors"
	"fmt"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/p2p"
)

// Layout of the "vault" space:
//
//	manifest   the sealed manifest (keys.seal of manifest.encode)
//
// The manifest is the only state; it is rewritten whole, durably, by every
// change, before the change is acknowledged.
var manifestKey = []byte("manifest")

// loadManifest reads the local manifest; an empty one if there is none.
func (v *Vault) loadManifest() (*manifest, error) {
	sealed, err := v.space.Get(manifestKey)
	if errors.Is(err, ledger.ErrNotFound) {
		return &manifest{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vault: read local manifest: %w", err)
	}
	m, err := v.openManifest(sealed)
	if err != nil {
		return nil, fmt.Errorf("vault: local manifest: %w (is this store from another identity?)", err)
	}
	return m, nil
}

func (v *Vault) openManifest(sealed []byte) (*manifest, error) {
	plain, err := v.keys.open(sealed)
	if err != nil {
		return nil, err
	}
	return decodeManifest(plain)
}

// sealManifest encodes and seals m, refusing one too large for a DHT record.
func (v *Vault) sealManifest(m *manifest) ([]byte, error) {
	plain := m.encode()
	if len(plain) > maxManifest {
		return nil, fmt.Errorf("vault: the manifest would be %d bytes, over the %d-byte limit of a DHT record: store fewer elements or use fewer shards (n)", len(plain), maxManifest)
	}
	return v.keys.seal(plain)
}

// commitLocked makes next the manifest: bumps its Seq and writes it
// durably. On error nothing changes. Callers hold v.mu and
// pass a modified clone of v.man.
func (v *Vault) commitLocked(next *manifest) error {
	next.Seq = v.man.Seq + 1
	sealed, err := v.sealManifest(next)
	if err != nil {
		return err
	}
	if err := v.space.Set(manifestKey, sealed); err != nil {
		return fmt.Errorf("vault: save manifest: %w", err)
	}
	v.man = next
	return nil
}

// update applies fn to a clone of the manifest and commits it, unless fn
// reports no change (false) or fails.
func (v *Vault) update(fn func(m *manifest) (bool, error)) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	next := v.man.clone()
	changed, err := fn(next)
	if err != nil || !changed {
		return err
	}
	return v.commitLocked(next)
}

// snapshotSeq returns the manifest's sequence number.
func (v *Vault) snapshotSeq() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.man.Seq
}

// snapshot returns a deep copy of the manifest.
func (v *Vault) snapshot() *manifest {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.man.clone()
}

// publish puts the sealed manifest in the DHT. A manifest that never
// changed is not published.
func (v *Vault) publish(ctx context.Context) error {
	v.publishMu.Lock()
	defer v.publishMu.Unlock()
	v.mu.Lock()
	m := v.man.clone()
	v.mu.Unlock()
	if m.Seq == 0 {
		return nil
	}
	sealed, err := v.sealManifest(m)
	if err != nil {
		return err
	}
	rec, err := p2p.NewSignedRecord(v.id.PeerKey, Namespace, v.self.String(), m.Seq, manifestTTL, sealed)
	if err != nil {
		return fmt.Errorf("vault: sign manifest record: %w", err)
	}
	if err := v.net.Records().Put(ctx, rec); err != nil {
		return fmt.Errorf("vault: publish manifest: %w", err)
	}
	v.published = max(v.published, m.Seq)
	v.log.Debug("manifest published", "seq", m.Seq, "elements", len(m.Elements), "bytes", len(sealed))
	return nil
}

// publishNow publishes after a change; a failure is logged and left to the
// publish loop, since the change is already durable locally.
func (v *Vault) publishNow(ctx context.Context) {
	if err := v.publish(ctx); err != nil {
		v.log.Warn("manifest not published yet; the node retries in the background", "err", err)
		v.kickPublish()
	}
}

// fetchRemote reads and opens the published manifest.
func (v *Vault) fetchRemote(ctx context.Context) (*manifest, error) {
	rec, err := v.net.Records().Get(ctx, Namespace, v.self.String())
	if errors.Is(err, p2p.ErrNotFound) {
		return nil, fmt.Errorf("%w (nothing was added with this mnemonic, or the DHT peers that held it are gone): %w", ErrNoManifest, err)
	}
	if err != nil {
		return nil, fmt.Errorf("vault: fetch manifest from the DHT: %w", err)
	}
	m, err := v.openManifest(rec.Value)
	if err != nil {
		return nil, fmt.Errorf("vault: published manifest: %w", err)
	}
	if m.Seq != rec.Seq {
		return nil, fmt.Errorf("vault: published manifest: record seq %d does not match manifest seq %d", rec.Seq, m.Seq)
	}
	return m, nil
}

// adoptRemote makes sure that the first change on a node with an empty
// manifest builds on the published one (a fresh install with an old
// mnemonic) instead of hiding it behind a lower sequence number.
func (v *Vault) adoptRemote(ctx context.Context) {
	v.mu.Lock()
	done := v.adopted
	v.mu.Unlock()
	if done {
		return
	}
	if _, err := v.Restore(ctx); err != nil && !errors.Is(err, ErrNoManifest) {
		v.log.Debug("no published manifest to build on", "err", err)
	}
	v.mu.Lock()
	v.adopted = true
	v.mu.Unlock()
}

// RestoreResult answers Restore.
type RestoreResult struct {
	Seq      uint64        `json:"seq"`      // the manifest's sequence number
	Replaced bool          `json:"replaced"` // false: the local manifest was as new or newer and was kept
	Elements []ElementInfo `json:"elements"`
}

// Restore fetches this identity's manifest from the DHT, checks its
// signature, decrypts it and, if it is newer than the local one, stores it
// locally; the elements are then readable. On a fresh node with the same
// mnemonic this brings the whole vault back.
func (v *Vault) Restore(ctx context.Context) (*RestoreResult, error) {
	remote, err := v.fetchRemote(ctx)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.adopted = true
	res := &RestoreResult{}
	if remote.Seq > v.man.Seq {
		sealed, err := v.sealManifest(remote)
		if err != nil {
			return nil, err
		}
		if err := v.space.Set(manifestKey, sealed); err != nil {
			return nil, fmt.Errorf("vault: save restored manifest: %w", err)
		}
		v.man = remote
		res.Replaced = true
	} else if remote.Seq < v.man.Seq {
		v.kickPublish()
	}
	res.Seq = v.man.Seq
	res.Elements = infos(v.man)
	v.log.Info("vault manifest restored", "seq", res.Seq, "replaced", res.Replaced, "elements", len(res.Elements))
	return res, nil
}
