package chat

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/p2p"
)

// Device state in the "chat" space:
//
//	dv/     this node's own device list: the signed record (on the primary
//	        its own list; on a linked device its primary's)
//	dl/P    P's device list as this node last saw it: fetched ms:8 |
//	        signed record (empty: P had none)
//
// Link secrets are kept in memory only: a restart of the primary cancels
// the links it printed.
var ownListKey = []byte("dv/")

func cachedListKey(p peer.ID) []byte { return append([]byte("dl/"), peerPart(p)...) }

// deviceFetchGap is the least time between two DHT fetches of one
// identity's list forced by a message (a removed device that keeps
// claiming its identity causes at most one fetch per gap).
const deviceFetchGap = 5 * time.Second

// deviceFetchTimeout bounds one DHT fetch of a device list.
const deviceFetchTimeout = 10 * time.Second

// deviceRetry is when a list whose first fetch failed is fetched again (in
// the background, with the next message).
const deviceRetry = 30 * time.Second

// deviceState is what the service knows about devices: its own list and
// the lists of the identities it talks to. mu guards the maps and own; the
// store is written before the memory.
type deviceState struct {
	edit       sync.Mutex // serializes changes of the own list (join, removal, republication, a pushed list)
	mu         sync.Mutex
	own        *deviceList
	cache      map[peer.ID]*cachedList
	links      map[[32]byte]pendingLink // pending link secrets, by their SHA-256
	refreshing map[peer.ID]bool
	pulled     time.Time       // last pullOwnList fetch
	ctx        context.Context // the service's run context (nil before Start)
}

type cachedList struct {
	list    *deviceList // nil: the identity has no devices
	fetched time.Time
}

// loadDevices reads this node's own list (New).
func (s *Service) loadDevices() error {
	d := &s.devices
	d.cache = make(map[peer.ID]*cachedList)
	d.links = make(map[[32]byte]pendingLink)
	d.refreshing = make(map[peer.ID]bool)
	raw, err := s.space.Get(ownListKey)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("chat: read the device list: %w", err)
	}
	l, err := parseDeviceRecord(raw)
	if err != nil {
		return fmt.Errorf("chat: the stored device list is corrupt: %w", err)
	}
	if !l.has(s.self) {
		s.log.Warn("the stored device list does not name this node; ignoring it", "identity", l.Identity)
		return nil
	}
	d.own = l
	return nil
}

// identity is who this node chats as: its primary's peer ID when it is a
// linked device, else its own.
func (s *Service) identity() peer.ID {
	if l := s.ownList(); l != nil {
		return l.Identity
	}
	return s.self
}

// Identity is the identity this node chats as (see identity).
func (s *Service) Identity() peer.ID { return s.identity() }

func (s *Service) ownList() *deviceList {
	s.devices.mu.Lock()
	defer s.devices.mu.Unlock()
	return s.devices.own
}

// ownOthers is the other devices of this node's identity.
func (s *Service) ownOthers() []peer.ID {
	l := s.ownList()
	if l == nil {
		return nil
	}
	return slices.DeleteFunc(l.all(), func(p peer.ID) bool { return p == s.self })
}

// setOwn writes l (nil: none) as this node's own list and then adopts it.
func (s *Service) setOwn(b *ledger.Batch, l *deviceList) {
	if l == nil {
		b.Delete(ownListKey)
	} else {
		b.Set(ownListKey, l.Raw)
	}
}

func (s *Service) adoptOwn(l *deviceList) {
	s.devices.mu.Lock()
	s.devices.own = l
	s.devices.mu.Unlock()
}

// cachedDeviceList returns what this node knows of p's list without the
// network: ok is false when it never looked.
func (s *Service) cachedDeviceList(p peer.ID) (c cachedList, ok bool) {
	d := &s.devices
	if own := s.ownList(); own != nil && own.Identity == p {
		return cachedList{list: own, fetched: time.Now()}, true
	}
	d.mu.Lock()
	e, ok := d.cache[p]
	d.mu.Unlock()
	if ok {
		return *e, true
	}
	v, err := s.space.Get(cachedListKey(p))
	if err != nil || len(v) < 8 {
		return cachedList{}, false
	}
	c.fetched = time.UnixMilli(int64(binary.BigEndian.Uint64(v)))
	if len(v) > 8 {
		l, err := parseDeviceRecord(v[8:])
		if err != nil || l.Identity != p {
			s.log.Warn("dropping a corrupt cached device list", "identity", p, "err", err)
			return cachedList{}, false
		}
		c.list = l
	}
	d.mu.Lock()
	d.cache[p] = &c
	d.mu.Unlock()
	return c, true
}

// rememberList records l (nil: none) as p's list, fetched at t, unless a
// newer version is already known.
func (s *Service) rememberList(p peer.ID, l *deviceList, t time.Time) {
	if old, ok := s.cachedDeviceList(p); ok && old.list != nil && (l == nil || l.Version < old.list.Version) {
		l = old.list // the DHT may lag; never go back to an older list
	}
	v := binary.BigEndian.AppendUint64(nil, uint64(t.UnixMilli()))
	if l != nil {
		v = append(v, l.Raw...)
	}
	b := s.space.NewBatch()
	b.Set(cachedListKey(p), v)
	if _, err := b.CommitAsync(); err != nil {
		s.log.Warn("caching a device list", "identity", p, "err", err)
	}
	s.devices.mu.Lock()
	s.devices.cache[p] = &cachedList{list: l, fetched: t}
	s.devices.mu.Unlock()
}

// fetchDeviceList reads p's list from the DHT and remembers it; a missing
// record means p has no devices.
func (s *Service) fetchDeviceList(ctx context.Context, p peer.ID) (*deviceList, error) {
	fctx, cancel := context.WithTimeout(ctx, deviceFetchTimeout)
	defer cancel()
	now := time.Now()
	rec, err := s.net.Records().Get(fctx, DeviceNamespace, p.String())
	var l *deviceList
	switch {
	case errors.Is(err, p2p.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("chat: find the devices of %s: %w", p, err)
	default:
		raw, merr := rec.Marshal()
		if merr != nil {
			return nil, fmt.Errorf("chat: devices of %s: %w", p, merr)
		}
		if l, err = listFromRecord(rec, raw); err != nil {
			return nil, fmt.Errorf("chat: devices of %s: %w", p, err)
		}
	}
	s.rememberList(p, l, now)
	c, _ := s.cachedDeviceList(p)
	return c.list, nil
}

// refreshDeviceList fetches p's list unless it was fetched less than gap
// ago.
func (s *Service) refreshDeviceList(ctx context.Context, p peer.ID, gap time.Duration) *deviceList {
	if c, ok := s.cachedDeviceList(p); ok && time.Since(c.fetched) < gap {
		return c.list
	}
	l, err := s.fetchDeviceList(ctx, p)
	if err != nil {
		s.log.Debug("device list fetch failed", "identity", p, "err", err)
		c, ok := s.cachedDeviceList(p)
		if !ok {
			// Sends do not wait on a failing DHT again before the next
			// background try, deviceRetry from now; nothing is stored.
			s.devices.mu.Lock()
			s.devices.cache[p] = &cachedList{fetched: time.Now().Add(deviceRetry - s.cfg.DeviceRefresh)}
			s.devices.mu.Unlock()
		}
		return c.list
	}
	return l
}

// deviceListFor is p's list for sending: the known one (refreshed in the
// background when older than Config.DeviceRefresh), or, the first time,
// fetched now.
func (s *Service) deviceListFor(ctx context.Context, p peer.ID) *deviceList {
	c, ok := s.cachedDeviceList(p)
	if !ok {
		return s.refreshDeviceList(ctx, p, 0)
	}
	if time.Since(c.fetched) >= s.cfg.DeviceRefresh {
		s.refreshLater(p)
	}
	return c.list
}

// refreshLater fetches p's list in the background (once at a time).
func (s *Service) refreshLater(p peer.ID) {
	d := &s.devices
	d.mu.Lock()
	ctx := d.ctx
	if ctx == nil || d.refreshing[p] {
		d.mu.Unlock()
		return
	}
	d.refreshing[p] = true
	d.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.refreshDeviceList(ctx, p, 0)
		d.mu.Lock()
		delete(d.refreshing, p)
		d.mu.Unlock()
	}()
}

// startDevices is the devices' part of Start: background refreshes run
// with ctx, and the own list is republished every PrekeyRefresh.
func (s *Service) startDevices(ctx context.Context) {
	s.devices.mu.Lock()
	s.devices.ctx = ctx
	s.devices.mu.Unlock()
	s.net.HandleRequest(DeviceProtocol, s.handleJoin, maxJoinReq, 30*time.Second)
	s.loop(ctx, "devices", s.cfg.PrekeyRefresh, func(ctx context.Context) time.Duration {
		s.pullOwnList(ctx)
		if err := s.publishOwnList(ctx); err != nil {
			s.log.Debug("publish the device list; will retry", "err", err)
			return time.Minute
		}
		return 0
	})
}

// pullOwnList, on a linked device, adopts a newer list of its identity
// from the DHT, as if the primary had pushed it (a push it missed): one
// that no longer names this node unlinks it. At most one fetch per
// deviceFetchGap.
func (s *Service) pullOwnList(ctx context.Context) {
	d := &s.devices
	own := s.ownList()
	if own == nil || own.Identity == s.self {
		return
	}
	d.mu.Lock()
	if time.Since(d.pulled) < deviceFetchGap {
		d.mu.Unlock()
		return
	}
	d.pulled = time.Now()
	d.mu.Unlock()
	fctx, cancel := context.WithTimeout(ctx, deviceFetchTimeout)
	defer cancel()
	rec, err := s.net.Records().Get(fctx, DeviceNamespace, own.Identity.String())
	if err != nil {
		s.log.Debug("pull the own device list", "err", err)
		return
	}
	raw, err := rec.Marshal()
	if err != nil {
		return
	}
	l, err := listFromRecord(rec, raw)
	if err != nil {
		return
	}
	d.edit.Lock()
	defer d.edit.Unlock()
	cur := s.ownList()
	if cur == nil || cur.Identity != l.Identity || l.Version <= cur.Version {
		return
	}
	var next *deviceList
	if l.has(s.self) {
		next = l
	}
	b := s.space.NewBatch()
	s.setOwn(b, next)
	if err := b.Commit(); err != nil {
		s.log.Warn("store the pulled device list", "err", err)
		return
	}
	s.adoptOwn(next)
	s.log.Info("device list pulled from the DHT", "identity", l.Identity, "version", l.Version, "linked", next != nil)
}

// publishOwnList puts this node's own list in the DHT: the primary signs
// it afresh (same version, new expiry); a linked device republishes its
// primary's copy while it is valid. Nothing when there is no list.
func (s *Service) publishOwnList(ctx context.Context) error {
	s.devices.edit.Lock()
	l := s.ownList()
	if l == nil {
		s.devices.edit.Unlock()
		return nil
	}
	if l.Identity == s.self {
		fresh := &deviceList{Identity: l.Identity, Version: l.Version, Devices: l.Devices}
		if err := s.signDeviceList(fresh); err != nil {
			return err
		}
		b := s.space.NewBatch()
		s.setOwn(b, fresh)
		if err := b.Commit(); err != nil {
			s.devices.edit.Unlock()
			return fmt.Errorf("chat: store the device list: %w", err)
		}
		s.adoptOwn(fresh)
		l = fresh
	}
	s.devices.edit.Unlock()
	if time.Now().After(l.Expires) {
		return nil
	}
	rec, err := p2p.UnmarshalRecord(l.Raw)
	if err != nil {
		return fmt.Errorf("chat: device list: %w", err)
	}
	if err := s.net.Records().Put(ctx, rec); err != nil {
		return fmt.Errorf("chat: publish the device list: %w", err)
	}
	return nil
}
