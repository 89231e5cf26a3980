package chat

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// sweep deletes what has expired: this node's own messages, the held
// mailbox items, and (by signed requests) the copies this node left with
// mailbox holders.
func (s *Service) sweep(ctx context.Context, now time.Time) {
	if err := s.sweepMessages(now); err != nil {
		s.log.Warn("delete expired chat messages", "err", err)
	}
	if err := s.sweepGroupMessages(now); err != nil {
		s.log.Warn("delete expired group messages", "err", err)
	}
	if err := s.sweepHeld(now); err != nil {
		s.log.Warn("delete expired mailbox items", "err", err)
	}
	s.sweepLeft(ctx, now)
}

// dueKeys lists the keys under prefix whose 8-byte big-endian time, right
// after the prefix, is at or before now.
func dueKeys(iter func([]byte, func(k, v []byte) error) error, prefix string, now time.Time) ([][]byte, [][]byte, error) {
	var keys, vals [][]byte
	err := iter([]byte(prefix), func(k, v []byte) error {
		if len(k) < len(prefix)+8 {
			return nil
		}
		if int64(binary.BigEndian.Uint64(k[len(prefix):])) > now.UnixMilli() {
			return errStop
		}
		keys = append(keys, bytes.Clone(k))
		vals = append(vals, bytes.Clone(v))
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, nil, err
	}
	return keys, vals, nil
}

// sweepMessages deletes messages whose timer ran out.
func (s *Service) sweepMessages(now time.Time) error {
	keys, _, err := dueKeys(s.space.Iterate, "x/", now)
	if err != nil {
		return err
	}
	for _, k := range keys {
		rd := wire.NewReader(k[2+8:])
		plen := int(rd.Byte("peer length"))
		p := peer.ID(rd.Fixed("peer", plen))
		var id MsgID
		copy(id[:], rd.Fixed("id", msgIDLen))
		if err := rd.Finish(); err != nil {
			s.log.Warn("malformed expiry index entry; dropping it", "err", err)
			if err := s.space.Delete(k); err != nil {
				return err
			}
			continue
		}
		if err := s.expireMessage(p, id, k); err != nil {
			return err
		}
	}
	return nil
}

// expireMessage deletes one message and its index entries.
func (s *Service) expireMessage(p peer.ID, id MsgID, xkey []byte) error {
	unlock := s.lockPeer(p)
	defer unlock()
	b := s.space.NewBatch()
	b.Delete(xkey)
	b.Delete(idKey(p, id))
	v, err := s.space.Get(idKey(p, id))
	if err == nil && len(v) == 16 {
		seq := binary.BigEndian.Uint64(v)
		b.Delete(msgKey(p, seq))
		meta, ok, err := s.loadMeta(p)
		if err != nil {
			return err
		}
		if ok {
			m, err := s.loadMessage(p, seq)
			if err == nil {
				meta.Count--
				if m.Direction == DirIn && seq > meta.ReadSeq && meta.Unread > 0 {
					meta.Unread--
				}
			}
			s.putMeta(b, p, meta)
		}
	}
	return b.Commit()
}

// sweepLeft tells mailbox holders to delete the expired copies this node
// left with them. Holders drop expired items themselves too, so a holder
// that cannot be reached now is not retried.
func (s *Service) sweepLeft(ctx context.Context, now time.Time) {
	keys, vals, err := dueKeys(s.space.Iterate, "left/", now)
	if err != nil {
		s.log.Warn("list expired mailbox copies", "err", err)
		return
	}
	type target struct{ holder, owner peer.ID }
	batches := map[target][]MsgID{}
	for i, k := range keys {
		var l leftItem
		if len(k) != len("left/")+8+msgIDLen || json.Unmarshal(vals[i], &l) != nil {
			continue
		}
		var id MsgID
		copy(id[:], k[len("left/")+8:])
		for _, h := range l.Holders {
			t := target{h, l.Recipient}
			batches[t] = append(batches[t], id)
		}
	}
	for t, ids := range batches {
		if err := s.deleteAt(ctx, t.holder, t.owner, ids); err != nil {
			s.log.Debug("delete expired mailbox copies", "holder", t.holder, "err", err)
		}
	}
	if len(keys) == 0 {
		return
	}
	b := s.space.NewBatch()
	for _, k := range keys {
		b.Delete(k)
	}
	if err := b.Commit(); err != nil {
		s.log.Warn("forget expired mailbox copies", "err", err)
	}
}
