package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/chat/ratchet"
	"github.com/tonmesh/tonmesh/ledger"
)

// Message directions and kinds.
const (
	DirIn     = "in"
	DirOut    = "out"
	KindText  = "text"
	KindTimer = "timer"
)

// Statuses of an outgoing message.
const (
	StatusSending   = "sending"   // encrypted and stored, not yet handed over
	StatusDelivered = "delivered" // the recipient acknowledged it (durably stored)
	StatusMailbox   = "mailbox"   // held by mailbox peers until the recipient fetches it
	StatusFailed    = "failed"    // neither the recipient nor any mailbox peer took it
)

// Message is one stored message of a conversation.
type Message struct {
	Seq       uint64    `json:"seq"` // position in the conversation (the `since` cursor)
	ID        string    `json:"id"`
	Peer      string    `json:"peer"`
	Direction string    `json:"direction"` // DirIn or DirOut
	Kind      string    `json:"kind"`      // KindText or KindTimer
	Text      string    `json:"text,omitempty"`
	TimerS    int64     `json:"timer_s,omitempty"` // KindTimer: the new default timer
	Sent      time.Time `json:"sent"`
	Received  time.Time `json:"received,omitzero"`
	Expires   time.Time `json:"expires,omitzero"`
	Status    string    `json:"status,omitempty"`  // outgoing only
	Holders   int       `json:"holders,omitempty"` // StatusMailbox: how many peers hold it
	Group     string    `json:"group,omitempty"`   // group messages: the group ID
	Fanout    *Fanout   `json:"fanout,omitempty"`  // outgoing group messages: how members got it; to an identity with linked devices: how its devices did
	Device    string    `json:"device,omitempty"`  // the device of the identity that sent it, when not its primary or this node
	Synced    int       `json:"synced,omitempty"`  // outgoing: how many other devices of this identity got a copy
}

// handleMsg serves MsgProtocol: one envelope from its sender, answered after
// the message and the session are durable.
func (s *Service) handleMsg(ctx context.Context, from peer.ID, req []byte) ([]byte, error) {
	env, err := decodeEnvelope(req)
	if err != nil {
		s.reject("", "undecodable envelope", err)
		return encodeResponse(statusRejected, err.Error()), nil
	}
	if env.Sender != from {
		err := fmt.Errorf("envelope of %s sent by %s: direct messages come from their sender", env.Sender, from)
		s.reject("", "relayed direct message", err)
		return encodeResponse(statusRejected, err.Error()), nil
	}
	st, err := s.receive(env, time.Now())
	reason := ""
	if err != nil {
		reason = err.Error()
	}
	return encodeResponse(st, reason), nil
}

// receive checks, decrypts and stores one envelope. It returns the status to
// answer: statusOK and statusDuplicate mean the message is durable (or
// already was), statusRejected that it never will be, statusError that this
// node failed and the sender may retry.
func (s *Service) receive(env *envelope, now time.Time) (byte, error) {
	if env.Recipient != s.self {
		err := fmt.Errorf("envelope for %s reached %s", env.Recipient, s.self)
		s.reject("", "misaddressed", err)
		return statusRejected, err
	}
	if err := env.verify(&s.keys); err != nil {
		s.reject("", "forged", err)
		return statusRejected, err
	}
	if env.Group {
		return s.receiveGroup(env, now)
	}
	st, durable, drain, err := s.receiveLocking(env, now) // devicereceive.go
	ctl := drain != nil
	if durable != nil {
		// statusOK and statusDuplicate promise the message is on disk; the
		// fsync happens outside the lock, shared with concurrent messages.
		if derr := durable(); derr != nil {
			return statusError, derr
		}
	}
	if drain != nil {
		drain()
	}
	if st == statusOK && !ctl {
		s.metrics.inc(DirIn, "stored")
		s.emit(env.Sender, DirIn, env.ID.String(), "")
	}
	return st, err
}

// receiveLocked is receive under the conversation's lock. For statusOK and
// statusDuplicate it returns what to wait for before answering: the
// message's own write, or (a duplicate) whatever write of it may still be
// on its way to the disk.
//
// drain, when not nil, marks a group control message: the caller runs it
// after the answer is durable, to open group messages it made readable.
//
// hold says which conversation's lock is held beyond the sender's (device
// content, devicereceive.go).
func (s *Service) receiveLocked(env *envelope, now time.Time, hold recvHold) (st byte, durable func() error, drain func(), err error) {
	defer func() {
		if st != statusOK {
			s.sessions.drop(env.Sender) // a session may have advanced without being stored
		}
	}()
	st, durable, drain, err = s.receiveChecked(env, now, hold)
	if (st == statusDuplicate || st == statusOK) && durable == nil {
		durable = s.store.Sync
	}
	return st, durable, drain, err
}

func (s *Service) receiveChecked(env *envelope, now time.Time, hold recvHold) (byte, func() error, func(), error) {
	if err := env.checkTimes(now); err != nil {
		if errors.Is(err, errExpired) {
			s.metrics.inc(DirIn, "expired")
			return statusDuplicate, noWait, nil, err // nothing to keep; let holders drop it
		}
		s.reject(env.Sender, "bad time", err)
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
	sessions, err := s.loadSessions(env.Sender)
	if err != nil {
		return statusError, nil, nil, err
	}
	ad := env.ad()
	pt, sessions, newInit, err := s.decrypt(env.Sender, sessions, env.Body, ad)
	if errors.Is(err, ratchet.ErrDuplicate) {
		s.duplicate()
		return statusDuplicate, nil, nil, nil
	}
	if err != nil {
		s.reject(env.Sender, "decryption failed", err)
		return statusRejected, nil, nil, err
	}
	if isDeviceContent(pt) {
		return s.receiveDevice(env, pt, sessions, newInit, now, hold)
	}
	c, err := decodeContent(pt)
	if err != nil {
		s.reject(env.Sender, "bad content", err)
		return statusRejected, nil, nil, err
	}
	durable, drain, err := s.storeIncoming(env, c, sessions, newInit, now)
	if err != nil {
		return statusError, nil, nil, err
	}
	return statusOK, durable, drain, nil
}

// noWait is the durable of an answer that promises nothing about the disk.
func noWait() error { return nil }

// decrypt tries the stored sessions (most recent first), then, for an init
// message no session knows, responds with a new session. It returns the
// plaintext and the sessions to store, the one that decrypted first; newInit
// is the init key of a new session.
func (s *Service) decrypt(from peer.ID, sessions []*ratchet.Session, body, ad []byte) (pt []byte, out []*ratchet.Session, newInit []byte, err error) {
	var errs []error
	for i, sess := range sessions {
		pt, err := sess.Decrypt(body, ad)
		if err == nil {
			out = append([]*ratchet.Session{sess}, slices.Delete(slices.Clone(sessions), i, i+1)...)
			return pt, out, nil, nil
		}
		if errors.Is(err, ratchet.ErrDuplicate) {
			return nil, nil, nil, err
		}
		errs = append(errs, err)
	}
	if !ratchet.IsInitMessage(body) {
		if len(errs) == 0 {
			return nil, nil, nil, fmt.Errorf("%w: no session with %s and the message starts none", ratchet.ErrAuth, from)
		}
		return nil, nil, nil, errors.Join(errs...)
	}
	_, eph, _, err := ratchet.InitInfo(body)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := s.space.Get(initKey(from, eph)); err == nil {
		// A session this init key started was dropped: the message is a
		// replay or too old to decrypt.
		return nil, nil, nil, fmt.Errorf("%w: session %x with %s was already answered", ratchet.ErrDuplicate, eph[:4], from)
	} else if !errors.Is(err, ledger.ErrNotFound) {
		return nil, nil, nil, err
	}
	sess, err := ratchet.Respond(s.id.EncKey, s.prekeyMap(), body)
	if err != nil {
		return nil, nil, nil, err
	}
	if pt, err = sess.Decrypt(body, ad); err != nil {
		return nil, nil, nil, err
	}
	return pt, append([]*ratchet.Session{sess}, sessions...), eph, nil
}

// storeIncoming writes a decrypted message and the sessions in one batch,
// applied now and durable once the returned durable has returned nil.
//
// A group control message (kindGroup) is applied in the same batch, under
// its group's lock, and is no message of the pairwise conversation; drain
// (not nil for it) then opens what it made readable.
func (s *Service) storeIncoming(env *envelope, c content, sessions []*ratchet.Session, newInit []byte, now time.Time) (durable func() error, drain func(), err error) {
	b := s.space.NewBatch()
	if err := putSessions(b, env.Sender, sessions); err != nil {
		return nil, nil, err
	}
	if newInit != nil {
		b.Set(initKey(env.Sender, newInit), nil)
	}
	if c.Kind == kindGroup {
		// The ID is indexed (with no message) so that a replay is a duplicate.
		b.Set(idKey(env.Sender, env.ID), make([]byte, 16))
		unlock, g, changed := s.applyCtl(b, env.Sender, c.Ctl)
		durable, err = b.CommitAsync()
		if unlock != nil {
			unlock()
		}
		if err != nil {
			return nil, nil, fmt.Errorf("chat: store group control from %s: %w", env.Sender, err)
		}
		s.sessions.set(env.Sender, sessions)
		drain = func() {}
		if changed {
			drain = func() { s.drainPending(g) }
		}
		return durable, drain, nil
	}
	meta, _, err := s.loadMeta(env.Sender)
	if err != nil {
		return nil, nil, err
	}
	m := &Message{
		ID:        env.ID.String(),
		Peer:      env.Sender.String(),
		Direction: DirIn,
		Sent:      env.Sent,
		Received:  now,
		Expires:   env.Expires(),
	}
	switch c.Kind {
	case kindText:
		m.Kind, m.Text = KindText, c.Text
	case kindTimer:
		m.Kind, m.TimerS = KindTimer, int64(c.Timer/time.Second)
		meta.Timer = m.TimerS
	}
	addMessage(b, env.Sender, meta, m, env.ID)
	s.putMeta(b, env.Sender, meta)
	if durable, err = b.CommitAsync(); err != nil {
		return nil, nil, fmt.Errorf("chat: store message from %s: %w", env.Sender, err)
	}
	s.sessions.set(env.Sender, sessions)
	return durable, nil, nil
}

// reject drops a message that failed a check: it logs, counts, and charges
// the conversation with from (when it is known and exists).
func (s *Service) reject(from peer.ID, what string, err error) {
	s.stats.rejected.Add(1)
	s.metrics.inc(DirIn, "rejected")
	s.log.Warn("chat message rejected", "reason", what, "from", from, "err", err)
	if from == "" {
		return
	}
	meta, ok, merr := s.loadMeta(from)
	if merr != nil || !ok {
		return
	}
	meta.Rejected++
	b := s.space.NewBatch()
	s.putMeta(b, from, meta)
	if cerr := b.Commit(); cerr != nil {
		s.log.Warn("count rejected chat message", "err", cerr)
	}
}

func (s *Service) duplicate() {
	s.stats.duplicates.Add(1)
	s.metrics.inc(DirIn, "duplicate")
}
