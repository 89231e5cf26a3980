package chat

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/wire"
	"github.com/tonmesh/tonmesh/ledger"
)

// Layout of the "chat-mailbox" space (items this node holds for others):
//
//	i/<mailbox key:32><msgid:16>          expires ms:8 | sender (uvarint length, peer ID) | envelope
//	e/<expires ms:8><mailbox key:32><msgid:16>   expiry index
//
// The envelope's body is ratchet ciphertext of padded content: a holder
// stores no plaintext and no key that opens it.

// holderState tracks what this node holds, per sender, to enforce quotas.
type holderState struct {
	mu    sync.Mutex
	usage map[peer.ID]usage
	total int64
}

type usage struct {
	items int
	bytes int64
}

func itemKey(mk []byte, id MsgID) []byte { return append(append([]byte("i/"), mk...), id[:]...) }
func itemExpKey(exp time.Time, mk []byte, id MsgID) []byte {
	k := binary.BigEndian.AppendUint64([]byte("e/"), uint64(exp.UnixMilli()))
	return append(append(k, mk...), id[:]...)
}

// heldItem is one stored mailbox item.
type heldItem struct {
	Expires  time.Time
	Sender   peer.ID
	Envelope []byte
}

func (h *heldItem) encode() []byte {
	out := binary.BigEndian.AppendUint64(nil, uint64(h.Expires.UnixMilli()))
	out = wire.AppendLenPrefixed(out, []byte(h.Sender))
	return append(out, h.Envelope...)
}

func decodeHeldItem(v []byte) (*heldItem, error) {
	rd := wire.NewReader(v)
	ms := rd.Uint64("expires")
	sender := readPeerID(rd, "sender")
	if rd.Err() != nil {
		return nil, fmt.Errorf("chat: stored mailbox item: %w", rd.Err())
	}
	return &heldItem{Expires: time.UnixMilli(int64(ms)), Sender: sender, Envelope: rd.Rest()}, nil
}

// size is what an item counts against its sender's quota.
func (h *heldItem) size() int64 { return int64(len(h.Envelope)) }

// loadHolderUsage rebuilds the per-sender usage from the stored items.
func (s *Service) loadHolderUsage() error {
	st := &s.holder
	st.mu.Lock()
	defer st.mu.Unlock()
	st.usage = make(map[peer.ID]usage)
	st.total = 0
	return s.mbox.Iterate([]byte("i/"), func(k, v []byte) error {
		it, err := decodeHeldItem(v)
		if err != nil {
			return err
		}
		u := st.usage[it.Sender]
		u.items++
		u.bytes += it.size()
		st.usage[it.Sender] = u
		st.total += it.size()
		return nil
	})
}

// handleMailbox serves MailboxProtocol.
func (s *Service) handleMailbox(ctx context.Context, from peer.ID, req []byte) ([]byte, error) {
	q, err := decodeMailboxReq(req)
	if err != nil {
		return encodeResponse(statusRejected, err.Error()), nil
	}
	now := time.Now()
	switch q.Op {
	case opPut:
		st, err := s.holdPut(from, q.Envelope, now)
		reason := ""
		if err != nil {
			reason = err.Error()
			s.log.Debug("mailbox put refused", "from", from, "err", err)
		}
		return encodeResponse(st, reason), nil
	case opFetch, opDelete:
		if err := q.verify(now); err != nil {
			return encodeResponse(statusRejected, err.Error()), nil
		}
		if from != q.Signer {
			return encodeResponse(statusRejected, "a mailbox request must come from its signer"), nil
		}
		if q.Op == opFetch {
			return s.holdFetch(q.Owner, now)
		}
		n, err := s.holdDelete(q.Signer, q.Owner, q.IDs)
		if err != nil {
			return encodeResponse(statusError, err.Error()), nil
		}
		return encodeDeleteResponse(n), nil
	}
	return encodeResponse(statusRejected, "unknown op"), nil
}

// holdPut keeps an envelope for its recipient: it must be signed by from,
// unexpired, for someone else, and within from's quota.
func (s *Service) holdPut(from peer.ID, raw []byte, now time.Time) (byte, error) {
	env, err := decodeEnvelope(raw)
	if err != nil {
		return statusRejected, err
	}
	if env.Sender != from {
		return statusRejected, fmt.Errorf("envelope of %s put by %s: only a sender leaves its own messages", env.Sender, from)
	}
	if env.Recipient == s.self {
		return statusRejected, errors.New("this node is the recipient: deliver directly")
	}
	if err := env.verify(); err != nil {
		return statusRejected, err
	}
	if err := env.checkTimes(now); err != nil {
		return statusRejected, err
	}
	if now.Sub(env.Sent) > s.cfg.Holder.MaxAge {
		return statusRejected, fmt.Errorf("message is older than this holder's maximum age %v", s.cfg.Holder.MaxAge)
	}
	exp := env.Sent.Add(s.cfg.Holder.MaxAge)
	if e := env.Expires(); !e.IsZero() && e.Before(exp) {
		exp = e
	}
	it := &heldItem{Expires: exp, Sender: from, Envelope: raw}
	status, durable, err := s.holdApply(from, env, it)
	if durable != nil {
		// Applied under holder.mu; the fsync is shared by concurrent puts.
		if derr := durable(); derr != nil {
			return statusError, derr
		}
	}
	return status, err
}

// holdApply checks the quotas and writes the item under holder.mu. For
// statusOK and statusDuplicate it returns what to wait for before
// answering: the item's write, or whatever write of it may still be on its
// way to the disk.
func (s *Service) holdApply(from peer.ID, env *envelope, it *heldItem) (byte, func() error, error) {
	mk := mailboxKey(env.Recipient)
	st := &s.holder
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, err := s.mbox.Get(itemKey(mk, env.ID)); err == nil {
		return statusDuplicate, s.store.Sync, nil
	} else if !errors.Is(err, ledger.ErrNotFound) {
		return statusError, nil, err
	}
	u := st.usage[from]
	lim := s.cfg.Holder
	if u.items+1 > lim.MaxItemsPerSender || u.bytes+it.size() > lim.MaxBytesPerSender {
		return statusQuota, nil, fmt.Errorf("sender %s is at its quota here (%d items, %d bytes)", from, u.items, u.bytes)
	}
	if st.total+it.size() > lim.MaxBytes {
		return statusQuota, nil, errors.New("this holder's mailbox space is full")
	}
	b := s.mbox.NewBatch()
	b.Set(itemKey(mk, env.ID), it.encode())
	b.Set(itemExpKey(it.Expires, mk, env.ID), nil)
	durable, err := b.CommitAsync()
	if err != nil {
		return statusError, nil, err
	}
	st.usage[from] = usage{items: u.items + 1, bytes: u.bytes + it.size()}
	st.total += it.size()
	return statusOK, durable, nil
}

// holdFetch answers a verified fetch with the owner's unexpired items.
func (s *Service) holdFetch(owner peer.ID, now time.Time) ([]byte, error) {
	mk := mailboxKey(owner)
	var items [][]byte
	size, more := 0, false
	errFull := errors.New("full")
	err := s.mbox.Iterate(append([]byte("i/"), mk...), func(k, v []byte) error {
		it, err := decodeHeldItem(v)
		if err != nil {
			return err
		}
		if !now.Before(it.Expires) {
			return nil // the sweeper removes it
		}
		if len(items) == maxFetchItems || size+len(it.Envelope)+16 > maxFetchResp-64 {
			more = true
			return errFull
		}
		items = append(items, append([]byte(nil), it.Envelope...))
		size += len(it.Envelope) + 16
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return encodeResponse(statusError, err.Error()), nil
	}
	return encodeFetchResponse(more, items), nil
}

// holdDelete removes items of owner's mailbox: any of them when the signer
// is the owner, else only those the signer put there.
func (s *Service) holdDelete(signer, owner peer.ID, ids []MsgID) (uint64, error) {
	mk := mailboxKey(owner)
	st := &s.holder
	st.mu.Lock()
	defer st.mu.Unlock()
	b := s.mbox.NewBatch()
	freed := map[peer.ID]usage{}
	var n uint64
	for _, id := range ids {
		v, err := s.mbox.Get(itemKey(mk, id))
		if errors.Is(err, ledger.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		it, err := decodeHeldItem(v)
		if err != nil {
			return 0, err
		}
		if signer != owner && it.Sender != signer {
			continue
		}
		b.Delete(itemKey(mk, id))
		b.Delete(itemExpKey(it.Expires, mk, id))
		f := freed[it.Sender]
		freed[it.Sender] = usage{items: f.items + 1, bytes: f.bytes + it.size()}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	if err := b.Commit(); err != nil {
		return 0, err
	}
	s.release(freed)
	return n, nil
}

// release subtracts freed usage; holder.mu is held.
func (s *Service) release(freed map[peer.ID]usage) {
	st := &s.holder
	for p, f := range freed {
		u := st.usage[p]
		u.items -= f.items
		u.bytes -= f.bytes
		st.total -= f.bytes
		if u.items <= 0 {
			delete(st.usage, p)
		} else {
			st.usage[p] = u
		}
	}
}

// sweepHeld drops held items whose time is up.
func (s *Service) sweepHeld(now time.Time) error {
	end := binary.BigEndian.AppendUint64([]byte("e/"), uint64(now.UnixMilli()))
	type expired struct{ key, item []byte }
	var due []expired
	err := s.mbox.Iterate([]byte("e/"), func(k, _ []byte) error {
		if string(k) > string(end) {
			return errStop
		}
		due = append(due, expired{key: append([]byte(nil), k...), item: append([]byte("i/"), k[2+8:]...)})
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if len(due) == 0 {
		return nil
	}
	st := &s.holder
	st.mu.Lock()
	defer st.mu.Unlock()
	b := s.mbox.NewBatch()
	freed := map[peer.ID]usage{}
	for _, d := range due {
		b.Delete(d.key)
		v, err := s.mbox.Get(d.item)
		if err != nil {
			continue // already deleted by its owner or sender
		}
		if it, err := decodeHeldItem(v); err == nil {
			f := freed[it.Sender]
			freed[it.Sender] = usage{items: f.items + 1, bytes: f.bytes + it.size()}
		}
		b.Delete(d.item)
	}
	if err := b.Commit(); err != nil {
		return err
	}
	s.release(freed)
	return nil
}

var errStop = errors.New("stop iteration")
