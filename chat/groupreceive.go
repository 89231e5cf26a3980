package chat

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/ledger"
)

// receiveGroup checks, decrypts and stores one group message envelope
// (already verified as signed by its sender and addressed to this node).
// A message whose epoch or sender key has not arrived yet is stored as
// pending, durably, and acknowledged: it is opened when they come.
func (s *Service) receiveGroup(env *envelope, now time.Time) (byte, error) {
	if err := env.checkTimes(now); err != nil {
		if errors.Is(err, errExpired) {
			s.metrics.inc(DirIn, "expired")
			return statusDuplicate, err
		}
		s.reject("", "bad time", err)
		return statusRejected, err
	}
	body, err := decodeGroupBody(env.Body)
	if err != nil {
		s.reject("", "undecodable group message", err)
		return statusRejected, err
	}
	g := body.Group
	unlock := s.lockGroup(g)
	st, m, durable, err := s.receiveGroupLocked(env, body, now)
	unlock()
	if durable != nil {
		if derr := durable(); derr != nil {
			return statusError, derr
		}
	}
	if st == statusOK && m != nil {
		s.metrics.inc(DirIn, "stored")
		s.emitGroup(g, env.Sender, DirIn, m.ID, "")
	}
	if err != nil && st == statusRejected {
		s.rejectGroup(g, env.Sender, err)
	}
	return st, err
}

// openResult is what opening a group envelope came to.
type openResult int

const (
	opened openResult = iota
	pending
	duplicateMsg
	rejected
)

// receiveGroupLocked is receiveGroup under the group's lock. m is the
// stored message (nil when the envelope is pending or refused).
func (s *Service) receiveGroupLocked(env *envelope, body *groupBody, now time.Time) (byte, *Message, func() error, error) {
	g := body.Group
	dup, err := s.groupSeen(g, env.ID)
	if err != nil {
		return statusError, nil, nil, err
	}
	if dup {
		s.duplicate()
		return statusDuplicate, nil, s.store.Sync, nil
	}
	meta, _, known, err := s.loadGroup(g)
	if err != nil {
		return statusError, nil, nil, err
	}
	b := s.space.NewBatch()
	res, m, err := s.openGroupEnv(b, meta, env, body, now)
	switch res {
	case duplicateMsg:
		s.duplicate()
		return statusDuplicate, nil, s.store.Sync, nil
	case rejected:
		return statusRejected, nil, nil, err
	case pending:
		n, cerr := s.countPending(g)
		if cerr != nil {
			return statusError, nil, nil, cerr
		}
		if n >= maxPendingPerGroup {
			return statusError, nil, nil, fmt.Errorf("group %s has %d messages waiting for keys; try later", g, n)
		}
		b.Set(gpKey(g, env.ID), env.encode())
		if known {
			meta.Pending = n + 1
		}
	}
	if known {
		putGroupMeta(b, g, meta)
	}
	durable, err := b.CommitAsync()
	if err != nil {
		return statusError, nil, nil, fmt.Errorf("chat: store group message: %w", err)
	}
	return statusOK, m, durable, nil
}

// openGroupEnv opens env with the stored state of its epoch and its
// sender's chain and adds the message to b and meta. The group's lock is
// held.
func (s *Service) openGroupEnv(b *ledger.Batch, meta *groupMeta, env *envelope, body *groupBody, now time.Time) (openResult, *Message, error) {
	g := body.Group
	st, ok, err := s.stateAt(g, body.Epoch)
	if err != nil {
		return rejected, nil, err
	}
	if !ok {
		return pending, nil, nil
	}
	if !st.isMember(env.Sender) {
		return rejected, nil, fmt.Errorf("group message from %s, who is not a member of epoch %d", env.Sender, body.Epoch)
	}
	if !st.isMember(s.self) {
		return rejected, nil, fmt.Errorf("group message of epoch %d, which this identity is not in", body.Epoch)
	}
	k, ok, err := s.loadSenderKey(g, body.Epoch, env.Sender)
	if err != nil {
		return rejected, nil, err
	}
	if !ok {
		return pending, nil, nil
	}
	pt, err := openGroup(k, env, body)
	if errors.Is(err, errGroupDuplicate) {
		return duplicateMsg, nil, nil
	}
	if err != nil {
		return rejected, nil, err
	}
	c, err := decodeContent(pt)
	if err == nil && c.Kind != kindText {
		err = fmt.Errorf("group message of kind %d: only text is sent to groups", c.Kind)
	}
	if err != nil {
		return rejected, nil, err
	}
	m := &Message{
		ID: env.ID.String(), Peer: env.Sender.String(), Group: g.String(), Direction: DirIn,
		Kind: KindText, Text: c.Text, Sent: env.Sent, Received: now, Expires: env.Expires(),
	}
	putSenderKey(b, g, body.Epoch, env.Sender, k)
	addGroupMessage(b, g, meta, m, env.ID)
	return opened, m, nil
}

func (s *Service) countPending(g GroupID) (int, error) {
	n := 0
	err := s.space.Iterate(gpPrefix(g), func(_, _ []byte) error {
		n++
		if n >= maxPendingPerGroup {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return 0, err
	}
	return n, nil
}

// drainPending opens the pending envelopes of g that its stored epochs and
// keys now allow, and drops those that can never be opened.
func (s *Service) drainPending(g GroupID) {
	unlock := s.lockGroup(g)
	type item struct {
		key []byte
		env *envelope
	}
	var items []item
	err := s.space.Iterate(gpPrefix(g), func(k, v []byte) error {
		env, err := decodeEnvelope(bytes.Clone(v))
		if err == nil {
			items = append(items, item{key: bytes.Clone(k), env: env})
		}
		return nil
	})
	if err != nil || len(items) == 0 {
		unlock()
		return
	}
	meta, _, known, err := s.loadGroup(g)
	if err != nil || !known {
		unlock()
		return
	}
	var stored []*Message
	b := s.space.NewBatch()
	left := len(items)
	for _, it := range items {
		body, err := decodeGroupBody(it.env.Body)
		if err != nil {
			b.Delete(it.key)
			left--
			continue
		}
		// Each open reads the sender's chain from the store: apply what
		// the previous one changed first.
		res, m, err := s.openGroupEnv(b, meta, it.env, body, time.Now())
		switch res {
		case pending:
			continue
		case rejected:
			s.log.Warn("pending group message rejected", "group", g, "from", it.env.Sender, "err", err)
			meta.Rejected++
		case opened:
			stored = append(stored, m)
		}
		b.Delete(it.key)
		left--
		meta.Pending = left
		putGroupMeta(b, g, meta)
		if err := b.Commit(); err != nil {
			s.log.Warn("store pending group message", "group", g, "err", err)
			unlock()
			return
		}
		b = s.space.NewBatch()
	}
	meta.Pending = left
	putGroupMeta(b, g, meta)
	if err := b.Commit(); err != nil {
		s.log.Warn("count pending group messages", "group", g, "err", err)
	}
	unlock()
	for _, m := range stored {
		p, _ := peer.Decode(m.Peer)
		s.metrics.inc(DirIn, "stored")
		s.emitGroup(g, p, DirIn, m.ID, "")
	}
}

// applyCtl adds the effect of a group control message from peer from to b.
// A control message that fails a check is logged and counted, and the
// pairwise message that carried it is still stored (its session moved on).
// It returns the group to drain pending messages of, if any.
func (s *Service) applyCtl(b *ledger.Batch, from peer.ID, raw []byte) (unlock func(), g GroupID, ok bool) {
	ctl, err := decodeGroupCtl(raw)
	if err != nil {
		s.reject(from, "bad group control", err)
		return nil, g, false
	}
	switch ctl.Type {
	case ctlState:
		st, err := decodeGroupState(ctl.State)
		if err == nil {
			err = st.verify()
		}
		if err != nil {
			s.reject(from, "bad group state", err)
			return nil, g, false
		}
		g = st.Group
		unlock = s.lockGroup(g)
		if err := s.acceptState(b, st, ctl.State); err != nil {
			s.log.Warn("group state refused", "group", g, "from", from, "epoch", st.Epoch, "err", err)
			s.stats.rejected.Add(1)
			return unlock, g, false
		}
		return unlock, g, true
	default:
		g = ctl.Group
		unlock = s.lockGroup(g)
		if _, have, err := s.loadSenderKey(g, ctl.Epoch, from); err != nil || have {
			// Never reset a chain: a replayed start would let its old
			// messages be opened again.
			return unlock, g, false
		}
		putSenderKey(b, g, ctl.Epoch, from, &senderKey{Chain: ctl.Chain[:], Pub: ctl.Pub})
		return unlock, g, true
	}
}

// acceptState checks st against the current state and, if it may follow,
// adds it to b. The group's lock is held.
func (s *Service) acceptState(b *ledger.Batch, st *groupState, raw []byte) error {
	g := st.Group
	meta, cur, known, err := s.loadGroup(g)
	if err != nil {
		return err
	}
	if !known {
		if !st.isMember(s.self) {
			return errors.New("state of a group this identity is not in")
		}
	} else {
		if st.Epoch <= cur.Epoch {
			return nil // already have it or a later one
		}
		if err := validTransition(cur, st); err != nil {
			return err
		}
	}
	meta.State = bytes.Clone(raw)
	meta.Left = !st.isMember(s.self)
	putGroupMeta(b, g, meta)
	b.Set(gsKey(g, st.Epoch), meta.State)
	return nil
}

// rejectGroup counts a refused group message against its group.
func (s *Service) rejectGroup(g GroupID, from peer.ID, err error) {
	s.stats.rejected.Add(1)
	s.metrics.inc(DirIn, "rejected")
	s.log.Warn("group message rejected", "group", g, "from", from, "err", err)
	unlock := s.lockGroup(g)
	defer unlock()
	meta, _, ok, merr := s.loadGroup(g)
	if merr != nil || !ok {
		return
	}
	meta.Rejected++
	b := s.space.NewBatch()
	putGroupMeta(b, g, meta)
	if cerr := b.Commit(); cerr != nil {
		s.log.Warn("count rejected group message", "err", cerr)
	}
}
