package chat

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// SendGroup encrypts text once with this identity's sender key for the
// group's current epoch and delivers a copy to every other member: directly
// when it answers, else to its mailbox peers. A member that lacks the
// sender key first gets it over the pairwise session. ttl 0 takes the
// group's timer. The message is stored whatever happens; its Fanout says
// how the members got it.
func (s *Service) SendGroup(ctx context.Context, g GroupID, text string, ttl time.Duration) (*Message, error) {
	if len(text) == 0 {
		return nil, fmt.Errorf("%w: text is empty", ErrBadRequest)
	}
	if ttl != 0 {
		if err := checkTTL(ttl); err != nil {
			return nil, err
		}
	}
	plain, err := content{Kind: kindText, Text: text}.encode()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	env, m, st, key, durable, err := s.sealGroupMessage(g, text, plain, ttl)
	if err != nil {
		return nil, err
	}
	if err := durable(); err != nil {
		return nil, fmt.Errorf("chat: store group message: %w", err)
	}
	s.metrics.inc(DirOut, "sealed")
	s.distributeKey(ctx, st, key)
	f := s.fanout(st.Members, func(p peer.ID) string {
		e := *env
		e.Recipient = p
		raw, err := e.seal(s.id.PeerKey)
		if err != nil {
			return StatusFailed
		}
		status, _ := s.deliver(ctx, &e, raw)
		return status
	})
	m.Fanout, m.Status = f, f.status()
	if err := s.setGroupOutcome(g, m); err != nil {
		return m, err
	}
	s.metrics.inc(DirOut, m.Status)
	s.emitGroup(g, s.self, DirOut, m.ID, m.Status)
	if m.Status == StatusFailed {
		return m, fmt.Errorf("%w: no member of the group and no mailbox peer took the message; it stays in the group as failed", ErrUndelivered)
	}
	return m, nil
}

// sealGroupMessage encrypts under the group's lock and writes the message
// and the advanced own chain in one batch, durable once durable returns.
func (s *Service) sealGroupMessage(g GroupID, text string, plain []byte, ttl time.Duration) (*envelope, *Message, *groupState, *senderKey, func() error, error) {
	unlock := s.lockGroup(g)
	defer unlock()
	meta, st, ok, err := s.loadGroup(g)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	if !ok {
		return nil, nil, nil, nil, nil, fmt.Errorf("%w: unknown group %s", ErrNotFound, g)
	}
	if meta.Left || !st.isMember(s.self) {
		return nil, nil, nil, nil, nil, fmt.Errorf("%w: this identity is no longer in group %s", ErrForbidden, g)
	}
	if ttl == 0 {
		ttl = st.Timer
	}
	key, have, err := s.loadSenderKey(g, st.Epoch, s.self)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	if !have {
		// A new epoch (a new member, a removal, a leave): a new chain
		// that only the members of this epoch will get.
		if key, err = newOwnSenderKey(); err != nil {
			return nil, nil, nil, nil, nil, err
		}
	}
	id, err := newMsgID()
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	env := &envelope{Group: true, Sender: s.self, ID: id, Sent: time.UnixMilli(time.Now().UnixMilli()), TTL: ttl}
	env.Body = sealGroup(key, env, g, st.Epoch, plain).encode()
	m := &Message{ID: id.String(), Peer: s.self.String(), Group: g.String(), Direction: DirOut, Kind: KindText,
		Text: text, Sent: env.Sent, Expires: env.Expires(), Status: StatusSending}
	b := s.space.NewBatch()
	putSenderKey(b, g, st.Epoch, s.self, key)
	addGroupMessage(b, g, meta, m, id)
	putGroupMeta(b, g, meta)
	durable, err := b.CommitAsync()
	if err != nil {
		return nil, nil, nil, nil, nil, fmt.Errorf("chat: store group message: %w", err)
	}
	return env, m, st, key.clone(), durable, nil
}

// distributeKey hands the start of the own chain of st's epoch to the
// members that have not had it, and records who took it; the others are
// tried again with the next message.
func (s *Service) distributeKey(ctx context.Context, st *groupState, key *senderKey) {
	var missing []peer.ID
	for _, p := range st.Members {
		if p != s.self && !slices.Contains(key.Sent, p.String()) {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return
	}
	ctl := &groupCtl{Type: ctlSenderKey, Group: st.Group, Epoch: st.Epoch, Pub: key.Pub}
	copy(ctl.Chain[:], key.Start)
	raw := ctl.encode()
	var mu sync.Mutex
	var took []string
	s.fanout(missing, func(p peer.ID) string {
		status, err := s.sendCtl(ctx, p, raw)
		if err != nil {
			s.log.Debug("sender key not delivered", "group", st.Group, "to", p, "err", err)
			return status
		}
		mu.Lock()
		took = append(took, p.String())
		mu.Unlock()
		return status
	})
	if len(took) == 0 {
		return
	}
	unlock := s.lockGroup(st.Group)
	defer unlock()
	k, ok, err := s.loadSenderKey(st.Group, st.Epoch, s.self)
	if err != nil || !ok {
		return
	}
	for _, p := range took {
		if !slices.Contains(k.Sent, p) {
			k.Sent = append(k.Sent, p)
		}
	}
	b := s.space.NewBatch()
	putSenderKey(b, st.Group, st.Epoch, s.self, k)
	if _, err := b.CommitAsync(); err != nil {
		s.log.Warn("record sender key distribution", "group", st.Group, "err", err)
	}
}

// setGroupOutcome records how the members got an outgoing group message;
// like setOutcome, it is applied now and durable with the next sync.
func (s *Service) setGroupOutcome(g GroupID, m *Message) error {
	unlock := s.lockGroup(g)
	defer unlock()
	stored, err := s.loadGroupMessage(g, m.Seq)
	if err != nil {
		return fmt.Errorf("chat: record delivery of %s: %w", m.ID, err)
	}
	stored.Status, stored.Fanout = m.Status, m.Fanout
	v := stored.storedJSON()
	b := s.space.NewBatch()
	b.Set(gmsgKey(g, m.Seq), v)
	if _, err := b.CommitAsync(); err != nil {
		return fmt.Errorf("chat: record delivery of %s: %w", m.ID, err)
	}
	return nil
}
