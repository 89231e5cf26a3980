package chat

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/chat/ratchet"
)

// StatusSynced is the status of an outgoing message another device of this
// identity sent: this node got its copy.
const StatusSynced = "synced"

// devicePlan is where one message goes when devices are involved: every
// device of the recipient identity, and a copy to this identity's other
// devices.
type devicePlan struct {
	targets []peer.ID // the recipient's devices, its primary first
	own     []peer.ID // this identity's other devices
}

// planDevices returns the plan for a message to identity to, or nil when
// neither side has linked devices (the message then goes exactly as a 1:1
// message always has).
func (s *Service) planDevices(ctx context.Context, to peer.ID) (*devicePlan, error) {
	own := s.ownList()
	if own != nil && own.has(to) {
		return nil, fmt.Errorf("%w: %s is a device of this identity; messages go to other identities", ErrBadRequest, to)
	}
	p := &devicePlan{targets: []peer.ID{to}, own: s.ownOthers()}
	if l := s.deviceListFor(ctx, to); l != nil {
		for _, d := range l.Devices {
			if d.Peer != s.self {
				p.targets = append(p.targets, d.Peer)
			}
		}
	}
	if len(p.targets) == 1 && len(p.own) == 0 && s.identity() == s.self {
		return nil, nil
	}
	return p, nil
}

// sendDevices stores one outgoing message in the conversation with identity
// to and seals a copy for every device of the plan, each in its pairwise
// session with that device. The message's Fanout says how the recipient's
// devices got it and Synced how many own devices did. Failed copies are not
// re-sent (retry.go knows one session per conversation).
func (s *Service) sendDevices(ctx context.Context, to peer.ID, c content, ttl time.Duration, p *devicePlan) (*Message, error) {
	ident := s.identity()
	var listVer uint64
	if own := s.ownList(); own != nil {
		listVer = own.Version
	}
	dc, err := deviceContentOf(c)
	if err != nil {
		return nil, err
	}
	dc.Identity, dc.ListVer = ident, listVer
	var toPlain []byte
	if ident == s.self {
		toPlain, err = c.encode() // a primary speaks for itself: version 1
	} else {
		toPlain, err = dc.encode()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	sc := *dc
	sc.Sync, sc.Peer = true, to
	syncPlain, err := sc.encode()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	m, id, ttl, err := s.storeOutgoing(to, c, ttl)
	if err != nil {
		return nil, err
	}
	s.metrics.inc(DirOut, "sealed")
	var f, synced *Fanout
	done := make(chan struct{})
	go func() {
		defer close(done)
		synced = s.fanout(p.own, func(d peer.ID) string { return s.sealAndDeliver(ctx, d, id, m.Sent, ttl, syncPlain) })
	}()
	f = s.fanout(p.targets, func(d peer.ID) string { return s.sealAndDeliver(ctx, d, id, m.Sent, ttl, toPlain) })
	<-done
	m.Fanout, m.Status, m.Synced = f, f.status(), synced.Delivered+synced.Mailbox
	if err := s.setDeviceOutcome(to, m); err != nil {
		return m, err
	}
	s.metrics.inc(DirOut, m.Status)
	s.emit(to, DirOut, m.ID, m.Status)
	if m.Status == StatusFailed {
		return m, fmt.Errorf("%w: no device of %s and no mailbox peer took the message; it stays in the conversation as failed", ErrUndelivered, to)
	}
	return m, nil
}

// storeOutgoing writes the message to identity to, durably, before any copy
// leaves. It returns the message, its ID and its timer.
func (s *Service) storeOutgoing(to peer.ID, c content, ttl time.Duration) (*Message, MsgID, time.Duration, error) {
	unlock := s.lockPeer(to)
	meta, _, err := s.loadMeta(to)
	if err != nil {
		unlock()
		return nil, MsgID{}, 0, err
	}
	switch {
	case ttl < 0:
		ttl = 0
	case ttl == 0:
		ttl = time.Duration(meta.Timer) * time.Second
	}
	id, err := newMsgID()
	if err != nil {
		unlock()
		return nil, id, 0, err
	}
	sent := time.UnixMilli(time.Now().UnixMilli())
	var expires time.Time
	if ttl > 0 {
		expires = sent.Add(ttl)
	}
	m := outgoing(id, to, sent, expires, c)
	b := s.space.NewBatch()
	addMessage(b, to, meta, m, id)
	s.putMeta(b, to, meta)
	durable, err := b.CommitAsync()
	unlock()
	if err != nil {
		return nil, id, 0, fmt.Errorf("chat: store message to %s: %w", to, err)
	}
	if err := durable(); err != nil {
		return nil, id, 0, fmt.Errorf("chat: store message to %s: %w", to, err)
	}
	return m, id, ttl, nil
}

// sealAndDeliver seals plain as message id to device d and delivers it; it
// returns the delivery status.
func (s *Service) sealAndDeliver(ctx context.Context, d peer.ID, id MsgID, sent time.Time, ttl time.Duration, plain []byte) string {
	env, raw, err := s.sealTo(ctx, d, id, sent, ttl, plain)
	if err != nil {
		s.log.Debug("copy for a device not sealed", "device", d, "err", err)
		return StatusFailed
	}
	status, _ := s.deliver(ctx, env, raw)
	return status
}

// sealTo encrypts plain as message id in the current session with d (a
// device, or a peer a failed message is re-sent to; starting a session
// from d's prekey bundle if there is none) and makes the advanced session
// durable before it returns the envelope.
func (s *Service) sealTo(ctx context.Context, d peer.ID, id MsgID, sent time.Time, ttl time.Duration, plain []byte) (env *envelope, raw []byte, err error) {
	unlock := s.lockPeer(d)
	durable, err := func() (func() error, error) {
		sessions, err := s.loadSessions(d)
		if err != nil {
			return nil, err
		}
		if len(sessions) == 0 {
			b, err := s.fetchBundle(ctx, d)
			if err != nil {
				return nil, err
			}
			sess, err := ratchet.Initiate(s.id.EncKey, b)
			if err != nil {
				return nil, fmt.Errorf("chat: start a session with %s: %w", d, err)
			}
			sessions = []*ratchet.Session{sess}
		}
		env = &envelope{Sender: s.self, Recipient: d, ID: id, Sent: sent, TTL: ttl}
		if env.Body, err = sessions[0].Encrypt(plain, env.ad()); err != nil {
			return nil, fmt.Errorf("chat: encrypt to %s: %w", d, err)
		}
		if raw, err = env.seal(s.id.PeerKey); err != nil {
			return nil, err
		}
		b := s.space.NewBatch()
		if err := putSessions(b, d, sessions); err != nil {
			return nil, err
		}
		durable, err := b.CommitAsync()
		if err != nil {
			return nil, fmt.Errorf("chat: store session with %s: %w", d, err)
		}
		s.sessions.set(d, sessions)
		return durable, nil
	}()
	if err != nil {
		s.sessions.drop(d) // a session may have advanced without being stored
	}
	unlock()
	if err != nil {
		return nil, nil, err
	}
	if err := durable(); err != nil {
		return nil, nil, fmt.Errorf("chat: store session with %s: %w", d, err)
	}
	return env, raw, nil
}

// setDeviceOutcome records how the devices got an outgoing message; like
// setOutcome it is applied now and durable with the next sync.
func (s *Service) setDeviceOutcome(to peer.ID, m *Message) error {
	unlock := s.lockPeer(to)
	defer unlock()
	stored, err := s.loadMessage(to, m.Seq)
	if err != nil {
		return fmt.Errorf("chat: record delivery of %s: %w", m.ID, err)
	}
	stored.Status, stored.Fanout, stored.Synced = m.Status, m.Fanout, m.Synced
	v := stored.storedJSON()
	b := s.space.NewBatch()
	b.Set(msgKey(to, m.Seq), v)
	if _, err := b.CommitAsync(); err != nil {
		return fmt.Errorf("chat: record delivery of %s: %w", m.ID, err)
	}
	return nil
}

// pushOwnList sends this primary's signed list to devices (its own, and a
// device just removed, so that it stops speaking for the identity). It
// returns how many took it.
func (s *Service) pushOwnList(ctx context.Context, l *deviceList, to []peer.ID) int {
	dc := &deviceContent{Kind: kindDeviceList, Identity: s.self, ListVer: l.Version, List: l.Raw}
	plain, err := dc.encode()
	if err != nil {
		s.log.Warn("device list not pushed", "err", err)
		return 0
	}
	id, err := newMsgID()
	if err != nil {
		return 0
	}
	sent := time.UnixMilli(time.Now().UnixMilli())
	f := s.fanout(to, func(d peer.ID) string { return s.sealAndDeliver(ctx, d, id, sent, 0, plain) })
	return f.Delivered + f.Mailbox
}
