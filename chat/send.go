package chat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/chat/ratchet"
	"github.com/tonmesh/tonmesh/ledger"
)

// ErrBadRequest wraps errors in what the caller asked (recipient, text, timer).
var ErrBadRequest = errors.New("chat: bad request")

// ErrUndelivered is returned by Send when neither the recipient nor any
// mailbox peer took the message; it stays in the conversation as failed.
var ErrUndelivered = errors.New("chat: message not delivered")

// Send encrypts text to peer to and delivers it: directly when the peer is
// reachable, else to the mailbox peers. ttl is the message's timer; 0 takes
// the conversation's default (which may be none). The message is stored in
// the conversation whatever happens; its Status says where it went.
func (s *Service) Send(ctx context.Context, to peer.ID, text string, ttl time.Duration) (*Message, error) {
	if len(text) == 0 {
		return nil, fmt.Errorf("%w: text is empty", ErrBadRequest)
	}
	return s.send(ctx, to, content{Kind: kindText, Text: text}, ttl)
}

// SetTimer sets the default timer of the conversation with peer (0: none)
// and tells the peer, so that both ends use it. The local change stands even
// if the peer cannot be told; the returned message's Status says.
func (s *Service) SetTimer(ctx context.Context, with peer.ID, ttl time.Duration) (*Message, error) {
	if err := checkTTL(ttl); err != nil {
		return nil, err
	}
	if err := s.checkPeer(with); err != nil {
		return nil, err
	}
	unlock := s.lockPeer(with)
	meta, _, err := s.loadMeta(with)
	if err == nil {
		meta.Timer = int64(ttl / time.Second)
		b := s.space.NewBatch()
		s.putMeta(b, with, meta)
		err = b.Commit()
	}
	unlock()
	if err != nil {
		return nil, fmt.Errorf("chat: set timer: %w", err)
	}
	m, err := s.send(ctx, with, content{Kind: kindTimer, Timer: ttl}, -1)
	if errors.Is(err, ErrUndelivered) || errors.Is(err, ErrNoPrekeys) {
		s.log.Info("timer set locally; the peer was not told", "peer", with, "err", err)
		return m, nil
	}
	return m, err
}

func checkTTL(ttl time.Duration) error {
	if ttl < 0 || ttl > MaxTTL || ttl%time.Second != 0 {
		return fmt.Errorf("%w: timer %v: use whole seconds from 0 (none) to %v", ErrBadRequest, ttl, MaxTTL)
	}
	return nil
}

func (s *Service) checkPeer(p peer.ID) error {
	if p == s.self {
		return fmt.Errorf("%w: cannot send to yourself", ErrBadRequest)
	}
	if _, err := p.ExtractPublicKey(); err != nil {
		return fmt.Errorf("%w: %s is not a peer ID with an Ed25519 key (ask the recipient for `tonmesh id`)", ErrBadRequest, p)
	}
	return nil
}

// send stores and delivers one content. ttl < 0 means no timer at all (timer
// changes); 0 the conversation's default.
func (s *Service) send(ctx context.Context, to peer.ID, c content, ttl time.Duration) (*Message, error) {
	if err := s.checkPeer(to); err != nil {
		return nil, err
	}
	if ttl > 0 {
		if err := checkTTL(ttl); err != nil {
			return nil, err
		}
	}
	if plan, err := s.planDevices(ctx, to); err != nil {
		return nil, err
	} else if plan != nil {
		return s.sendDevices(ctx, to, c, ttl, plan) // devicesend.go
	}
	env, raw, m, durable, ahead, err := s.sealAhead(ctx, to, c, ttl)
	if err != nil {
		return nil, err
	}
	// The message and the advanced session are applied. Concurrent sends
	// share the fsync that makes them durable. Without a durable reservation
	// of the message's number (ratchet.EncryptAhead), nothing leaves before
	// that fsync; with one, the envelope leaves first and the fsync is
	// waited for while the recipient stores it, before the answer is read
	// (or after a direct attempt that never wrote it), so before the
	// mailboxes get the message and before anything reports the send.
	var status string
	var holders []peer.ID
	if ahead {
		var serr error
		waited := false
		wait := func() { serr, waited = durable(), true }
		derr := s.direct(ctx, env.Recipient, raw, wait)
		if !waited {
			wait()
		}
		if serr != nil {
			return nil, fmt.Errorf("chat: store message to %s: %w", to, serr)
		}
		s.metrics.inc(DirOut, "sealed")
		status, holders = s.fallback(ctx, env, raw, derr)
	} else {
		if err := durable(); err != nil {
			return nil, fmt.Errorf("chat: store message to %s: %w", to, err)
		}
		s.metrics.inc(DirOut, "sealed")
		status, holders = s.deliver(ctx, env, raw)
	}
	m.Status, m.Holders = status, len(holders)
	if err := s.setOutcome(env, m, holders, true); err != nil {
		return m, err
	}
	s.metrics.inc(DirOut, status)
	s.emit(to, DirOut, m.ID, status)
	if status == StatusFailed {
		s.rememberFailed(to, env.ID, m.Seq)
		return m, fmt.Errorf("%w: %s is not reachable and no mailbox peer accepted the message; it stays in the conversation as failed", ErrUndelivered, to)
	}
	return m, nil
}

// seal encrypts c to the current session with to (starting one from to's
// prekey bundle if there is none) and writes the message and the advanced
// session in one batch. The batch is applied (the next seal sees the
// session) but durable only once the returned durable has returned nil,
// which the caller waits for, outside the conversation's lock, before
// anything leaves the node.
func (s *Service) seal(ctx context.Context, to peer.ID, c content, ttl time.Duration) (env *envelope, raw []byte, m *Message, durable func() error, err error) {
	env, raw, m, durable, _, err = s.sealAhead(ctx, to, c, ttl)
	return env, raw, m, durable, err
}

// sealAhead is seal that also says whether the envelope may leave before
// durable returned: ahead is true when a durable state of the session
// already reserved the message's number, so that a crash before this
// message's own state is durable cannot make the session reuse it (see
// ratchet.EncryptAhead). The message is still reported to nobody before
// durable returned nil.
func (s *Service) sealAhead(ctx context.Context, to peer.ID, c content, ttl time.Duration) (env *envelope, raw []byte, m *Message, durable func() error, ahead bool, err error) {
	plain, err := c.encode()
	if err != nil {
		return nil, nil, nil, nil, false, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	unlock := s.lockPeer(to)
	defer unlock()
	defer func() {
		if err != nil {
			s.sessions.drop(to) // a session may have advanced without being stored
		}
	}()
	env, raw, m, w, err := s.sealLocked(ctx, to, c, plain, ttl)
	if err != nil {
		return nil, nil, nil, nil, false, err
	}
	wait, err := w.batch.CommitAsync()
	if err != nil {
		return nil, nil, nil, nil, false, fmt.Errorf("chat: store message to %s: %w", to, err)
	}
	s.sessions.set(to, w.sessions)
	sess, res := w.sessions[0], w.res
	durable = func() error {
		if err := wait(); err != nil {
			return err
		}
		sess.Durable(res) // later messages may leave ahead of their states
		return nil
	}
	return env, raw, m, durable, w.ahead, nil
}

// sealLocked is seal under the conversation's lock: it returns the batch
// to commit and the sessions it writes.
func (s *Service) sealLocked(ctx context.Context, to peer.ID, c content, plain []byte, ttl time.Duration) (*envelope, []byte, *Message, *sealed, error) {
	meta, _, err := s.loadMeta(to)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	switch {
	case ttl < 0:
		ttl = 0
	case ttl == 0:
		ttl = time.Duration(meta.Timer) * time.Second
	}
	sessions, err := s.loadSessions(to)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if len(sessions) == 0 {
		b, err := s.fetchBundle(ctx, to)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		sess, err := ratchet.Initiate(s.id.EncKey, b)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("chat: start a session with %s: %w", to, err)
		}
		sessions = []*ratchet.Session{sess}
	}
	id, err := newMsgID()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	now := time.Now()
	env := &envelope{Sender: s.self, Recipient: to, ID: id, Sent: time.UnixMilli(now.UnixMilli()), TTL: ttl}
	var ahead bool
	var res ratchet.Reservation
	if env.Body, ahead, res, err = sessions[0].EncryptAhead(plain, env.ad()); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("chat: encrypt to %s: %w", to, err)
	}
	raw, err := env.seal(s.id.PeerKey)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if c.Kind == kindGroup {
		// Group control travels in the pairwise session but is no message
		// of the pairwise conversation.
		b := s.space.NewBatch()
		if err := putSessions(b, to, sessions); err != nil {
			return nil, nil, nil, nil, err
		}
		return env, raw, nil, &sealed{batch: b, sessions: sessions, ahead: ahead, res: res}, nil
	}
	m := outgoing(id, to, env.Sent, env.Expires(), c)
	b := s.space.NewBatch()
	if err := putSessions(b, to, sessions); err != nil {
		return nil, nil, nil, nil, err
	}
	addMessage(b, to, meta, m, id)
	s.putMeta(b, to, meta)
	return env, raw, m, &sealed{batch: b, sessions: sessions, ahead: ahead, res: res}, nil
}

// sealed is what sealLocked leaves to write: the batch and the sessions
// in it, whether the message may leave ahead of the batch's fsync, and the
// reservation of sessions[0] the batch holds.
type sealed struct {
	batch    *ledger.Batch
	sessions []*ratchet.Session
	ahead    bool
	res      ratchet.Reservation
}

// sendCtl seals a group control message in the pairwise session with to
// and delivers it like a message; it returns the delivery status.
func (s *Service) sendCtl(ctx context.Context, to peer.ID, ctl []byte) (string, error) {
	env, raw, _, durable, err := s.seal(ctx, to, content{Kind: kindGroup, Ctl: ctl}, -1)
	if err != nil {
		return StatusFailed, err
	}
	if err := durable(); err != nil {
		return StatusFailed, fmt.Errorf("chat: store session with %s: %w", to, err)
	}
	status, _ := s.deliver(ctx, env, raw)
	if status == StatusFailed {
		return status, fmt.Errorf("%w: %s", ErrUndelivered, to)
	}
	return status, nil
}

// deliver hands the envelope to the recipient, or failing that to mailbox
// peers. It returns the status and, for StatusMailbox, the holders.
func (s *Service) deliver(ctx context.Context, env *envelope, raw []byte) (string, []peer.ID) {
	return s.fallback(ctx, env, raw, s.direct(ctx, env.Recipient, raw, nil))
}

// fallback is deliver after the direct attempt returned err: the mailbox
// peers get the envelope if it failed.
func (s *Service) fallback(ctx context.Context, env *envelope, raw []byte, err error) (string, []peer.ID) {
	if err == nil {
		return StatusDelivered, nil
	}
	s.log.Debug("direct delivery failed; using mailboxes", "to", env.Recipient, "err", err)
	holders := s.putMailboxes(ctx, env, raw)
	if len(holders) == 0 {
		return StatusFailed, nil
	}
	return StatusMailbox, holders
}

var errRefused = errors.New("refused")

// direct sends the envelope over MsgProtocol and waits for the durable ack;
// sent, if not nil, runs once the envelope is written (exchangeMsg).
func (s *Service) direct(ctx context.Context, to peer.ID, raw []byte, sent func()) error {
	dctx, cancel := context.WithTimeout(ctx, s.cfg.DirectTimeout)
	defer cancel()
	resp, err := s.exchangeMsg(dctx, to, raw, sent) // msgstreams.go
	if err != nil {
		return err
	}
	r, err := decodeResponse(resp, 0)
	if err != nil {
		return err
	}
	if r.Status != statusOK && r.Status != statusDuplicate {
		return fmt.Errorf("%w by %s (status %d): %s", errRefused, to, r.Status, r.Reason)
	}
	return nil
}

// setOutcome records where an outgoing message went, and for a message with
// a timer left in mailboxes, which holders to tell when it expires. The
// record is applied (every read sees it) and becomes durable with the
// store's next sync, which the next message to or from anyone brings; it
// is not waited for. What it records already happened: the message and its
// session were durable before Send reported anything, and the recipient or
// holders acknowledged it durably. A crash in between leaves the message
// StatusSending, which means "not known to have arrived" (or, for a message
// that left ahead of its fsync, may lose it: see the package doc).
//
// asSent says m is the message exactly as send stored it, which nothing
// but a deletion (its timer, the conversation's) changes before this: then
// only its existence is read, not the stored JSON.
func (s *Service) setOutcome(env *envelope, m *Message, holders []peer.ID, asSent bool) error {
	if _, err := s.applyOutcome(env, m, holders, asSent); err != nil {
		return fmt.Errorf("chat: record delivery of %s: %w", m.ID, err)
	}
	return nil
}

// applyOutcome writes the outcome under the conversation's lock; it is
// durable once the returned durable (or any later sync) has returned nil.
func (s *Service) applyOutcome(env *envelope, m *Message, holders []peer.ID, asSent bool) (durable func() error, err error) {
	unlock := s.lockPeer(env.Recipient)
	defer unlock()
	stored := m
	if asSent {
		if _, err := s.space.Get(msgKey(env.Recipient, m.Seq)); err != nil {
			return nil, err
		}
	} else {
		if stored, err = s.loadMessage(env.Recipient, m.Seq); err != nil {
			return nil, err
		}
		stored.Status, stored.Holders = m.Status, m.Holders
	}
	v := stored.storedJSON()
	b := s.space.NewBatch()
	b.Set(msgKey(env.Recipient, m.Seq), v)
	if exp := env.Expires(); len(holders) > 0 && !exp.IsZero() {
		l, _ := json.Marshal(leftItem{Recipient: env.Recipient, Holders: holders})
		b.Set(leftKey(exp, env.ID), l)
	}
	return b.CommitAsync()
}

// closestPeers returns up to n peers closest to key in the DHT, other than
// this node and those in skip, topped up from connected peers by XOR
// distance when the DHT lookup finds fewer.
func (s *Service) closestPeers(ctx context.Context, key []byte, n int, skip ...peer.ID) []peer.ID {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	found, err := s.net.DHT().GetClosestPeers(lctx, string(key))
	if err != nil {
		s.log.Debug("DHT closest peers", "err", err)
	}
	skip = append(skip, s.self)
	ok := func(p peer.ID, have []peer.ID) bool {
		return !slices.Contains(skip, p) && !slices.Contains(have, p)
	}
	target := sha256.Sum256(key)
	dist := func(p peer.ID) []byte {
		h := sha256.Sum256([]byte(p))
		for i := range h {
			h[i] ^= target[i]
		}
		return h[:]
	}
	sortByDistance := func(ps []peer.ID) {
		slices.SortFunc(ps, func(a, b peer.ID) int { return bytes.Compare(dist(a), dist(b)) })
	}
	sortByDistance(found)
	var out []peer.ID
	for _, p := range found {
		if len(out) < n && ok(p, out) {
			out = append(out, p)
		}
	}
	if len(out) < n {
		conn := s.net.Host().Network().Peers()
		sortByDistance(conn)
		for _, p := range conn {
			if len(out) < n && ok(p, out) {
				out = append(out, p)
			}
		}
	}
	return out
}

// outgoing is the stored form of message id with content c to peer to,
// still sending.
func outgoing(id MsgID, to peer.ID, sent, expires time.Time, c content) *Message {
	m := &Message{ID: id.String(), Peer: to.String(), Direction: DirOut, Sent: sent, Expires: expires, Status: StatusSending}
	switch c.Kind {
	case kindText:
		m.Kind, m.Text = KindText, c.Text
	case kindTimer:
		m.Kind, m.TimerS = KindTimer, int64(c.Timer/time.Second)
	}
	return m
}
