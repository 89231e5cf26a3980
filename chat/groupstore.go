package chat

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/ledger"
)

// Layout of the groups in the "chat" space (G = 16-byte group ID, E =
// 4-byte epoch, P as in store.go):
//
//	gm/G                        groupMeta JSON: current state, counters
//	gs/GE                       signed state of each epoch (to check late messages)
//	gk/GEP                      senderKey JSON: P's chain in epoch E (own chain too)
//	gmsg/G<seq:8>               Message JSON
//	gid/G<msgid:16>             seq:8 | expires ms:8 — every group message stored
//	gx/<expires ms:8>G<msgid>   expiry index of group messages with a timer
//	gp/G<msgid:16>              pending envelope: arrived before its key or epoch
//
// A received message and the advanced chain of its sender are written in
// one batch, as are a sent message and the advanced own chain.

// maxPendingPerGroup bounds the envelopes kept waiting for a key or epoch.
const maxPendingPerGroup = 2000

func gmKey(g GroupID) []byte { return append([]byte("gm/"), g[:]...) }
func gsKey(g GroupID, e uint32) []byte {
	return binary.BigEndian.AppendUint32(append([]byte("gs/"), g[:]...), e)
}
func gkKey(g GroupID, e uint32, p peer.ID) []byte {
	return append(binary.BigEndian.AppendUint32(append([]byte("gk/"), g[:]...), e), peerPart(p)...)
}
func gmsgPrefix(g GroupID) []byte { return append([]byte("gmsg/"), g[:]...) }
func gmsgKey(g GroupID, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(gmsgPrefix(g), seq)
}
func gidKey(g GroupID, id MsgID) []byte { return append(append([]byte("gid/"), g[:]...), id[:]...) }
func gxKey(exp time.Time, g GroupID, id MsgID) []byte {
	k := binary.BigEndian.AppendUint64([]byte("gx/"), uint64(exp.UnixMilli()))
	return append(append(k, g[:]...), id[:]...)
}
func gpPrefix(g GroupID) []byte        { return append([]byte("gp/"), g[:]...) }
func gpKey(g GroupID, id MsgID) []byte { return append(gpPrefix(g), id[:]...) }

// groupMeta is what the store keeps about one group.
type groupMeta struct {
	State   []byte `json:"state"` // signed state of the current epoch
	Left    bool   `json:"left,omitempty"`
	Pending int    `json:"pending,omitempty"`
	thread
}

// groupLocks serialize work on one group. Lock order: a conversation's
// lock (lockPeer) may be held when a group's is taken, never the reverse.
type groupLocks struct{ m [64]sync.Mutex }

func (s *Service) lockGroup(g GroupID) func() {
	h := fnv.New32a()
	_, _ = h.Write(g[:])
	m := &s.glocks.m[h.Sum32()%uint32(len(s.glocks.m))]
	m.Lock()
	return m.Unlock
}

// loadGroup reads the group's meta and current state; ok is false for a
// group this node does not know.
func (s *Service) loadGroup(g GroupID) (*groupMeta, *groupState, bool, error) {
	v, err := s.space.Get(gmKey(g))
	if errors.Is(err, ledger.ErrNotFound) {
		return &groupMeta{thread: thread{NextSeq: 1}}, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("chat: read group %s: %w", g, err)
	}
	var m groupMeta
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, nil, false, fmt.Errorf("chat: stored group %s is corrupt: %w", g, err)
	}
	st, err := decodeGroupState(m.State)
	if err != nil {
		return nil, nil, false, fmt.Errorf("chat: stored group %s: %w", g, err)
	}
	return &m, st, true, nil
}

func putGroupMeta(b *ledger.Batch, g GroupID, m *groupMeta) {
	v, _ := json.Marshal(m)
	b.Set(gmKey(g), v)
}

// stateAt reads the stored state of epoch e.
func (s *Service) stateAt(g GroupID, e uint32) (*groupState, bool, error) {
	v, err := s.space.Get(gsKey(g, e))
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	st, err := decodeGroupState(v)
	if err != nil {
		return nil, false, fmt.Errorf("chat: stored group state %s/%d: %w", g, e, err)
	}
	return st, true, nil
}

func (s *Service) loadSenderKey(g GroupID, e uint32, p peer.ID) (*senderKey, bool, error) {
	v, err := s.space.Get(gkKey(g, e, p))
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var k senderKey
	if err := json.Unmarshal(v, &k); err != nil {
		return nil, false, fmt.Errorf("chat: stored sender key %s/%d/%s is corrupt: %w", g, e, p, err)
	}
	return &k, true, nil
}

func putSenderKey(b *ledger.Batch, g GroupID, e uint32, p peer.ID, k *senderKey) {
	v, _ := json.Marshal(k)
	b.Set(gkKey(g, e, p), v)
}

func (s *Service) groupSeen(g GroupID, id MsgID) (bool, error) {
	for _, k := range [][]byte{gidKey(g, id), gpKey(g, id)} {
		_, err := s.space.Get(k)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, ledger.ErrNotFound) {
			return false, fmt.Errorf("chat: read group message index: %w", err)
		}
	}
	return false, nil
}

// addGroupMessage adds m to b as the next message of group g and updates
// meta (the caller writes meta).
func addGroupMessage(b *ledger.Batch, g GroupID, meta *groupMeta, m *Message, id MsgID) {
	meta.add(m)
	putMessage(b, m, gmsgKey(g, m.Seq), gidKey(g, id), gxKey(m.Expires, g, id))
}

func (s *Service) loadGroupMessage(g GroupID, seq uint64) (*Message, error) {
	v, err := s.space.Get(gmsgKey(g, seq))
	if err != nil {
		return nil, err
	}
	var m Message
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, fmt.Errorf("chat: stored group message %s/%d is corrupt: %w", g, seq, err)
	}
	return &m, nil
}

// sweepGroupMessages deletes group messages whose timer ran out.
func (s *Service) sweepGroupMessages(now time.Time) error {
	keys, _, err := dueKeys(s.space.Iterate, "gx/", now)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if len(k) != 3+8+groupIDLen+msgIDLen {
			if err := s.space.Delete(k); err != nil {
				return err
			}
			continue
		}
		var g GroupID
		var id MsgID
		copy(g[:], k[3+8:])
		copy(id[:], k[3+8+groupIDLen:])
		if err := s.expireGroupMessage(g, id, k); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) expireGroupMessage(g GroupID, id MsgID, xkey []byte) error {
	unlock := s.lockGroup(g)
	defer unlock()
	b := s.space.NewBatch()
	b.Delete(xkey)
	v, err := s.space.Get(gidKey(g, id))
	if err == nil && len(v) == 16 {
		seq := binary.BigEndian.Uint64(v)
		meta, _, ok, err := s.loadGroup(g)
		if err != nil {
			return err
		}
		if m, err := s.loadGroupMessage(g, seq); err == nil && ok {
			meta.Count--
			if m.Direction == DirIn && seq > meta.ReadSeq && meta.Unread > 0 {
				meta.Unread--
			}
			putGroupMeta(b, g, meta)
		}
		b.Delete(gmsgKey(g, seq))
		// The ID index stays (with no message) so that a late copy of the
		// message is still a duplicate.
	}
	return b.Commit()
}

// groupMessages returns up to limit messages of group g after since and
// marks them read.
func (s *Service) groupMessages(g GroupID, since uint64, limit int) ([]Message, uint64, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	unlock := s.lockGroup(g)
	defer unlock()
	meta, _, ok, err := s.loadGroup(g)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return nil, 0, fmt.Errorf("%w: unknown group %s", ErrNotFound, g)
	}
	out := []Message{}
	next := since
	start := gmsgKey(g, since+1)
	err = s.space.Iterate(gmsgPrefix(g), func(k, v []byte) error {
		if bytes.Compare(k, start) < 0 {
			return nil
		}
		if len(out) == limit {
			return errStop
		}
		var m Message
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("chat: stored group message is corrupt: %w", err)
		}
		out = append(out, m)
		next = m.Seq
		return nil
	})
	if err != nil && err != errStop {
		return nil, 0, fmt.Errorf("chat: read group messages: %w", err)
	}
	if next > meta.ReadSeq {
		unread := 0
		for _, m := range out {
			if m.Direction == DirIn && m.Seq > meta.ReadSeq {
				unread++
			}
		}
		meta.ReadSeq = next
		meta.Unread = max(0, meta.Unread-unread)
		b := s.space.NewBatch()
		putGroupMeta(b, g, meta)
		if err := b.Commit(); err != nil {
			return nil, 0, fmt.Errorf("chat: mark group messages read: %w", err)
		}
	}
	return out, next, nil
}
