package chat

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/chat/ratchet"
	"github.com/tonmesh/tonmesh/internal/wire"
	"github.com/tonmesh/tonmesh/ledger"
)

// Layout of the "chat" space (P = one length byte then the peer ID bytes,
// so that no peer's prefix is another's):
//
//	pk/<id:4>                       prekey: created ms | X25519 private | bundle
//	s/P                             sessions with P, most recently used first
//	c/P                             conversation: JSON convMeta
//	m/P<seq:8>                      message: JSON Message
//	id/P<msgid:16>                  seq:8 | expires ms:8 — every message stored
//	x/<expires ms:8>P<msgid:16>     expiry index of messages with a timer
//	in/P<initkey>                   init keys already responded to
//	left/<expires ms:8><msgid:16>   mailbox copies this node left: leftItem JSON
//	dv/, dl/P                       device lists (devices.go)
//
// All the entries of one message are written in one batch; sessions are
// written in the same batch as the message they sent or received.

// maxSessions is how many sessions with one peer are kept: the one in use
// and the ones a simultaneous start or a restarted peer left behind.
const maxSessions = 3

func peerPart(p peer.ID) []byte { return append([]byte{byte(len(p))}, p...) }

func sessKey(p peer.ID) []byte { return append([]byte("s/"), peerPart(p)...) }
func convKey(p peer.ID) []byte { return append([]byte("c/"), peerPart(p)...) }
func msgPrefix(p peer.ID) []byte {
	return append([]byte("m/"), peerPart(p)...)
}
func msgKey(p peer.ID, seq uint64) []byte { return binary.BigEndian.AppendUint64(msgPrefix(p), seq) }
func idKey(p peer.ID, id MsgID) []byte {
	return append(append([]byte("id/"), peerPart(p)...), id[:]...)
}
func expKey(exp time.Time, p peer.ID, id MsgID) []byte {
	k := binary.BigEndian.AppendUint64([]byte("x/"), uint64(exp.UnixMilli()))
	return append(append(k, peerPart(p)...), id[:]...)
}
func initKey(p peer.ID, ik []byte) []byte {
	return append(append([]byte("in/"), peerPart(p)...), ik...)
}
func leftKey(exp time.Time, id MsgID) []byte {
	k := binary.BigEndian.AppendUint64([]byte("left/"), uint64(exp.UnixMilli()))
	return append(k, id[:]...)
}

// convMeta is what the store keeps about one conversation.
type convMeta struct {
	Timer int64 `json:"timer_s,omitempty"` // default message timer, seconds
	thread
}

// thread is what a conversation's and a group's metadata share: the
// numbering and counts of their messages (its fields are stored flat in
// the metadata's JSON).
type thread struct {
	Unread   int       `json:"unread"`   // incoming messages after ReadSeq
	ReadSeq  uint64    `json:"read_seq"` // the last message the user has read
	Count    int       `json:"count"`
	NextSeq  uint64    `json:"next_seq"`
	LastAt   time.Time `json:"last_at"`
	Rejected uint64    `json:"rejected,omitempty"`
}

// add numbers m as the thread's next message and counts it.
func (t *thread) add(m *Message) {
	m.Seq = t.NextSeq
	t.NextSeq++
	t.Count++
	t.LastAt = m.Sent
	if m.Direction == DirIn {
		t.Unread++
	}
}

// putMessage writes m under msgKey with its ID index at idKey (seq and
// expiry) and, for a message with a timer, its expiry index at expKey.
func putMessage(b *ledger.Batch, m *Message, msgKey, idKey, expKey []byte) {
	v := m.storedJSON()
	b.Set(msgKey, v)
	var exp uint64
	if !m.Expires.IsZero() {
		exp = uint64(m.Expires.UnixMilli())
		b.Set(expKey, nil)
	}
	b.Set(idKey, binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, m.Seq), exp))
}

// leftItem records a message this node left in mailboxes, to delete it
// there when its timer runs out.
type leftItem struct {
	Recipient peer.ID   `json:"recipient"`
	Holders   []peer.ID `json:"holders"`
}

func (s *Service) loadMeta(p peer.ID) (*convMeta, bool, error) {
	v, err := s.space.Get(convKey(p))
	if errors.Is(err, ledger.ErrNotFound) {
		return &convMeta{thread: thread{NextSeq: 1}}, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("chat: read conversation %s: %w", p, err)
	}
	if m, ok := s.metas.get(p, v); ok {
		return m, true, nil
	}
	var m convMeta
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, false, fmt.Errorf("chat: stored conversation %s is corrupt: %w", p, err)
	}
	s.metas.set(p, v, &m)
	return &m, true, nil
}

// putMeta adds m to b as the conversation's metadata. The cache learns
// the bytes' decoding now: should b never be applied, the stored bytes
// differ from them and loadMeta decodes what is stored.
func (s *Service) putMeta(b *ledger.Batch, p peer.ID, m *convMeta) {
	v := m.storedJSON()
	b.Set(convKey(p), v)
	s.metas.set(p, v, m)
}

// loadSessions returns the sessions with p, most recently used first, from
// the cache or the store. s.lockPeer(p) is held; a caller that advances a
// session and then fails to store it drops the cache entry.
func (s *Service) loadSessions(p peer.ID) ([]*ratchet.Session, error) {
	if ss, ok := s.sessions.get(p); ok {
		return ss, nil
	}
	ss, err := s.readSessions(p)
	if err == nil && len(ss) > 0 && !s.sessions.isResumed(p) {
		err = s.resumeSessions(p, ss)
	}
	if err == nil {
		s.sessions.set(p, ss)
	}
	return ss, err
}

// resumeSessions skips the sending numbers the sessions with p reserved and
// writes them back (applied, not waited for: until that write is durable a
// crash only brings back the older state, which the next start resumes
// again). A message may leave ahead of its own state (send.go); after a
// crash the stored state can be older than what left, and without the skip
// the next message would reuse a message key the peer already used.
func (s *Service) resumeSessions(p peer.ID, ss []*ratchet.Session) error {
	for _, sess := range ss {
		sess.Resume()
	}
	b := s.space.NewBatch()
	if err := putSessions(b, p, ss); err != nil {
		return err
	}
	if _, err := b.CommitAsync(); err != nil {
		return fmt.Errorf("chat: store resumed sessions with %s: %w", p, err)
	}
	s.sessions.markResumed(p)
	return nil
}

// readSessions decodes the stored sessions with p.
func (s *Service) readSessions(p peer.ID) ([]*ratchet.Session, error) {
	v, err := s.space.Get(sessKey(p))
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("chat: read sessions with %s: %w", p, err)
	}
	rd := wire.NewReader(v)
	n := rd.Uvarint("count")
	if rd.Err() == nil && n > maxSessions {
		return nil, fmt.Errorf("chat: stored sessions with %s: %d sessions", p, n)
	}
	var out []*ratchet.Session
	for i := 0; rd.Err() == nil && i < int(n); i++ {
		raw := rd.LenPrefixed("session", len(v))
		if rd.Err() != nil {
			break
		}
		sess, err := ratchet.UnmarshalSession(raw)
		if err != nil {
			return nil, fmt.Errorf("chat: stored session with %s: %w", p, err)
		}
		out = append(out, sess)
	}
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("chat: stored sessions with %s: %w", p, err)
	}
	return out, nil
}

// putSessions adds the sessions (most recently used first, at most
// maxSessions) to b.
func putSessions(b *ledger.Batch, p peer.ID, sessions []*ratchet.Session) error {
	if len(sessions) > maxSessions {
		sessions = sessions[:maxSessions]
	}
	out := binary.AppendUvarint(nil, uint64(len(sessions)))
	for _, sess := range sessions {
		raw, err := sess.MarshalBinary()
		if err != nil {
			return fmt.Errorf("chat: encode session with %s: %w", p, err)
		}
		out = wire.AppendLenPrefixed(out, raw)
	}
	b.Set(sessKey(p), out)
	return nil
}

// seen reports whether message id from or to p is stored.
func (s *Service) seen(p peer.ID, id MsgID) (bool, error) {
	_, err := s.space.Get(idKey(p, id))
	if errors.Is(err, ledger.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("chat: read message index: %w", err)
	}
	return true, nil
}

// addMessage adds m to b as the next message of the conversation with p and
// updates meta (the caller writes meta).
func addMessage(b *ledger.Batch, p peer.ID, meta *convMeta, m *Message, id MsgID) {
	meta.add(m)
	putMessage(b, m, msgKey(p, m.Seq), idKey(p, id), expKey(m.Expires, p, id))
}

// loadMessage reads one stored message.
func (s *Service) loadMessage(p peer.ID, seq uint64) (*Message, error) {
	v, err := s.space.Get(msgKey(p, seq))
	if err != nil {
		return nil, err
	}
	var m Message
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, fmt.Errorf("chat: stored message %s/%d is corrupt: %w", p, seq, err)
	}
	return &m, nil
}
