package chat

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/chat/ratchet"
)

// Receiving device content. The sessions of a message are the sending
// device's (s.lockPeer(sender)); a message from a linked device is stored in
// the conversation with its identity, and a sync copy in the conversation
// it was sent to, which need that conversation's lock too. The sender's
// lock is taken first and the conversation's tried (TryLock): when it is
// busy, or the claim needs a device list from the DHT, nothing is stored,
// every lock is dropped, and the message is opened once more with both
// locks taken in index order (relockError), so that two such messages never
// wait on each other.

// recvHold is what a receive attempt holds beyond the sender's lock.
type recvHold struct {
	conv    peer.ID // a conversation whose lock is held too ("" none)
	retried bool    // the second attempt: claims are checked against what is known
}

// relockError asks for a second attempt holding conv's lock, after
// fetching resolve's device list (when set) outside every lock.
type relockError struct {
	conv    peer.ID
	resolve peer.ID
}

func (e *relockError) Error() string {
	return fmt.Sprintf("chat: retry holding the conversation with %s", e.conv)
}

func peerLockIndex(p peer.ID) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(p))
	return h.Sum32() % peerLocks
}

// lockPeers takes the locks of a and b (b may be ""), in index order.
func (s *Service) lockPeers(a, b peer.ID) func() {
	ia := peerLockIndex(a)
	if b == "" || peerLockIndex(b) == ia {
		return s.lockPeer(a)
	}
	ib := peerLockIndex(b)
	first, second := &s.locks[min(ia, ib)], &s.locks[max(ia, ib)]
	first.Lock()
	second.Lock()
	return func() { second.Unlock(); first.Unlock() }
}

// receiveLocking runs receiveLocked under the sender's lock and, when it
// asks, once more under the sender's and a conversation's.
func (s *Service) receiveLocking(env *envelope, now time.Time) (byte, func() error, func(), error) {
	unlock := s.lockPeer(env.Sender)
	st, durable, drain, err := s.receiveLocked(env, now, recvHold{})
	unlock()
	var rl *relockError
	if !errors.As(err, &rl) {
		return st, durable, drain, err
	}
	if rl.resolve != "" {
		ctx, cancel := s.devicesCtx()
		if rl.resolve == s.identity() {
			s.pullOwnList(ctx)
		} else {
			s.refreshDeviceList(ctx, rl.resolve, deviceFetchGap)
		}
		cancel()
	}
	unlock = s.lockPeers(env.Sender, rl.conv)
	st, durable, drain, err = s.receiveLocked(env, now, recvHold{conv: rl.conv, retried: true})
	unlock()
	if errors.As(err, &rl) {
		return statusError, nil, nil, fmt.Errorf("chat: message from %s: the conversation stayed busy; retry", env.Sender)
	}
	return st, durable, drain, err
}

// devicesCtx is a context for a fetch the receive path needs.
func (s *Service) devicesCtx() (context.Context, context.CancelFunc) {
	s.devices.mu.Lock()
	ctx := s.devices.ctx
	s.devices.mu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, deviceFetchTimeout)
}

// tryLockConv takes conv's lock unless the sender's (held) covers it or
// hold has it; ok false means it is busy.
func (s *Service) tryLockConv(sender, conv peer.ID, hold recvHold) (unlock func(), ok bool) {
	if conv == hold.conv || peerLockIndex(conv) == peerLockIndex(sender) {
		return func() {}, true
	}
	m := &s.locks[peerLockIndex(conv)]
	if !m.TryLock() {
		return nil, false
	}
	return m.Unlock, true
}

// receiveDevice checks and stores a decrypted version-2 plaintext. The
// sender's lock is held.
func (s *Service) receiveDevice(env *envelope, pt []byte, sessions []*ratchet.Session, newInit []byte, now time.Time, hold recvHold) (byte, func() error, func(), error) {
	dc, err := decodeDeviceContent(pt)
	if err != nil {
		s.reject(env.Sender, "bad device content", err)
		return statusRejected, nil, nil, err
	}
	ident := s.identity()
	if dc.Kind == kindDeviceList {
		return s.receivePushedList(env, dc, sessions, newInit)
	}
	conv, dir := dc.Identity, DirIn
	switch {
	case dc.Sync:
		own := s.ownList()
		if dc.Identity != ident || env.Sender == s.self || !own.has(env.Sender) {
			if dc.Identity == ident && ident != s.self && own.Version < dc.ListVer && !hold.retried {
				return statusError, nil, nil, &relockError{conv: dc.Peer, resolve: ident}
			}
			err := fmt.Errorf("sync copy from %s, which is not a device of this identity %s", env.Sender, ident)
			s.reject("", "forged sync copy", err)
			return statusRejected, nil, nil, err
		}
		if dc.Peer == ident || (dc.In && env.Sender != ident) {
			err := fmt.Errorf("sync copy from %s of a message with %s (incoming: %v)", env.Sender, dc.Peer, dc.In)
			s.reject("", "bad sync copy", err)
			return statusRejected, nil, nil, err
		}
		conv, dir = dc.Peer, DirOut
		if dc.In {
			dir = DirIn // history from the primary
		}
	case dc.Identity == ident:
		err := fmt.Errorf("device %s of this identity sent a message that is no sync copy", env.Sender)
		s.reject("", "bad device message", err)
		return statusRejected, nil, nil, err
	case dc.Identity != env.Sender:
		c, _ := s.cachedDeviceList(dc.Identity)
		if c.list == nil || c.list.Version < dc.ListVer || !c.list.has(env.Sender) {
			if !hold.retried {
				return statusError, nil, nil, &relockError{conv: dc.Identity, resolve: dc.Identity}
			}
			err := fmt.Errorf("%s claims to be a device of %s, which does not list it", env.Sender, dc.Identity)
			s.reject("", "unlisted device", err)
			return statusRejected, nil, nil, err
		}
	}
	unlockConv, ok := s.tryLockConv(env.Sender, conv, hold)
	if !ok {
		return statusError, nil, nil, &relockError{conv: conv}
	}
	defer unlockConv()
	dup, err := s.seen(conv, env.ID)
	if err != nil {
		return statusError, nil, nil, err
	}
	if dup {
		s.duplicate()
		return statusDuplicate, nil, nil, nil
	}
	meta, _, err := s.loadMeta(conv)
	if err != nil {
		return statusError, nil, nil, err
	}
	m := &Message{ID: env.ID.String(), Peer: conv.String(), Direction: dir, Sent: env.Sent, Received: now, Expires: env.Expires()}
	if env.Sender != conv && !dc.In {
		m.Device = env.Sender.String()
	}
	if dir == DirOut {
		m.Status = StatusSynced
	}
	switch dc.Kind {
	case kindText:
		m.Kind, m.Text = KindText, dc.Text
	case kindTimer:
		m.Kind, m.TimerS = KindTimer, int64(dc.Timer/time.Second)
		meta.Timer = m.TimerS
	}
	b := s.space.NewBatch()
	if err := putSessions(b, env.Sender, sessions); err != nil {
		return statusError, nil, nil, err
	}
	if newInit != nil {
		b.Set(initKey(env.Sender, newInit), nil)
	}
	addMessage(b, conv, meta, m, env.ID)
	if dc.In {
		// History the user has seen on the primary: not unread here.
		meta.Unread--
		if meta.ReadSeq+1 == m.Seq {
			meta.ReadSeq = m.Seq
		}
	}
	s.putMeta(b, conv, meta)
	durable, err := b.CommitAsync()
	if err != nil {
		return statusError, nil, nil, fmt.Errorf("chat: store message from %s: %w", env.Sender, err)
	}
	s.sessions.set(env.Sender, sessions)
	drain := func() {
		s.metrics.inc(DirIn, "stored")
		s.emit(conv, dir, m.ID, m.Status)
	}
	return statusOK, durable, drain, nil
}

// receivePushedList applies a device list the primary pushed: a newer list
// that names this node becomes its own; one that does not unlinks it.
func (s *Service) receivePushedList(env *envelope, dc *deviceContent, sessions []*ratchet.Session, newInit []byte) (byte, func() error, func(), error) {
	d := &s.devices
	d.edit.Lock()
	defer d.edit.Unlock()
	own := s.ownList()
	l, err := parseDeviceRecord(dc.List)
	switch {
	case err != nil:
	case own == nil || own.Identity == s.self:
		err = errors.New("this node is no linked device")
	case env.Sender != own.Identity || dc.Identity != own.Identity || l.Identity != own.Identity:
		err = fmt.Errorf("a device list of %s from %s; this node's primary is %s", l.Identity, env.Sender, own.Identity)
	}
	if err != nil {
		s.reject("", "bad pushed device list", err)
		return statusRejected, nil, nil, err
	}
	dup, err := s.seen(env.Sender, env.ID)
	if err != nil {
		return statusError, nil, nil, err
	}
	if dup {
		s.duplicate()
		return statusDuplicate, nil, nil, nil
	}
	b := s.space.NewBatch()
	if err := putSessions(b, env.Sender, sessions); err != nil {
		return statusError, nil, nil, err
	}
	if newInit != nil {
		b.Set(initKey(env.Sender, newInit), nil)
	}
	b.Set(idKey(env.Sender, env.ID), make([]byte, 16)) // a replay is a duplicate
	adopt := l.Version > own.Version
	var next *deviceList
	if adopt && l.has(s.self) {
		next = l
	}
	if adopt {
		s.setOwn(b, next)
	}
	durable, err := b.CommitAsync()
	if err != nil {
		return statusError, nil, nil, fmt.Errorf("chat: store the device list from %s: %w", env.Sender, err)
	}
	s.sessions.set(env.Sender, sessions)
	if adopt {
		s.adoptOwn(next)
		if next == nil {
			s.log.Info("this node was removed from its identity's devices; it chats as itself again", "identity", own.Identity)
		} else {
			s.log.Info("device list updated", "identity", own.Identity, "version", l.Version, "devices", len(l.Devices))
		}
	}
	return statusOK, durable, func() {}, nil
}
