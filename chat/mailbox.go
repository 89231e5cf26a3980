package chat

import (
	"context"
	"crypto/sha256"
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
//	i/<mailbox key:32><item id:16>   a held item (heldItem.encode)
//	e/<expires ms:8><mailbox key:32><item id:16>   expiry index
//	u/<work:32>                      a used proof-of-work stamp: expires ms:8
//
// A sealed item (sealed.go) is filed under the ID its sender chose and
// stored as 0x01 | expires ms:8 | delete hash:32 | sealed item: the holder
// keeps no sender, no envelope and no key that opens it. A plain item (the
// format of nodes that do not seal yet, and of items stored before they
// did) is filed under its message ID and stored as expires ms:8 | sender
// (uvarint length, peer ID) | envelope; its first byte is the top byte of
// a unix-ms time, 0, so the two cannot be confused. Both are served by
// fetch, counted against their mailbox's quota and deleted by its owner;
// a plain item is also deleted by a request signed by its sender, a sealed
// one by the delete secret. A used stamp is remembered until its time is
// out of the stampWindow, so that its replay is refused, across restarts.

// holderState tracks what this node holds, per mailbox and per sender of
// plain items, to enforce quotas, and the stamps it took.
type holderState struct {
	mu     sync.Mutex
	usage  map[string]usage // mailboxUsage(mk), senderUsage(p)
	total  int64
	stamps map[[32]byte]time.Time // used stamp work → when it may be forgotten
	counts holderCounters
}

type usage struct {
	items int
	bytes int64
}

func mailboxUsage(mk []byte) string { return "m" + string(mk) }
func senderUsage(p peer.ID) string  { return "s" + string(p) }

func itemKey(mk []byte, id MsgID) []byte { return append(append([]byte("i/"), mk...), id[:]...) }
func itemExpKey(exp time.Time, mk []byte, id MsgID) []byte {
	k := binary.BigEndian.AppendUint64([]byte("e/"), uint64(exp.UnixMilli()))
	return append(append(k, mk...), id[:]...)
}
func stampKey(work [32]byte) []byte { return append([]byte("u/"), work[:]...) }

// heldSealedTag starts the stored value of a sealed item.
const heldSealedTag = 1

// heldItem is one stored mailbox item.
type heldItem struct {
	Expires time.Time
	// Sender is the sender of a plain item; empty for a sealed one.
	Sender peer.ID
	// DeleteHash is a sealed item's deleteHash; nil for a plain one.
	DeleteHash []byte
	// Envelope is what a fetch returns: the envelope of a plain item, the
	// sealed item of a sealed one.
	Envelope []byte
}

func (h *heldItem) sealed() bool { return h.DeleteHash != nil }

func (h *heldItem) encode() []byte {
	if h.sealed() {
		out := binary.BigEndian.AppendUint64([]byte{heldSealedTag}, uint64(h.Expires.UnixMilli()))
		return append(append(out, h.DeleteHash...), h.Envelope...)
	}
	out := binary.BigEndian.AppendUint64(nil, uint64(h.Expires.UnixMilli()))
	out = wire.AppendLenPrefixed(out, []byte(h.Sender))
	return append(out, h.Envelope...)
}

func decodeHeldItem(v []byte) (*heldItem, error) {
	if len(v) > 0 && v[0] == heldSealedTag {
		rd := wire.NewReader(v[1:])
		ms := rd.Uint64("expires")
		dh := rd.Fixed("delete hash", sha256.Size)
		if rd.Err() != nil {
			return nil, fmt.Errorf("chat: stored sealed mailbox item: %w", rd.Err())
		}
		return &heldItem{Expires: time.UnixMilli(int64(ms)), DeleteHash: dh, Envelope: rd.Rest()}, nil
	}
	rd := wire.NewReader(v)
	ms := rd.Uint64("expires")
	sender := readPeerID(rd, "sender")
	if rd.Err() != nil {
		return nil, fmt.Errorf("chat: stored mailbox item: %w", rd.Err())
	}
	return &heldItem{Expires: time.UnixMilli(int64(ms)), Sender: sender, Envelope: rd.Rest()}, nil
}

// size is what an item counts against its quotas.
func (h *heldItem) size() int64 { return int64(len(h.Envelope)) }

// account adds (sign 1) or subtracts (-1) item it of mailbox mk from the
// usage; holder.mu is held.
func (st *holderState) account(mk []byte, it *heldItem, sign int) {
	keys := []string{mailboxUsage(mk)}
	if !it.sealed() {
		keys = append(keys, senderUsage(it.Sender))
	}
	for _, k := range keys {
		u := st.usage[k]
		u.items += sign
		u.bytes += int64(sign) * it.size()
		if u.items <= 0 {
			delete(st.usage, k)
		} else {
			st.usage[k] = u
		}
	}
	st.total += int64(sign) * it.size()
}

// loadHolderUsage rebuilds the usage from the stored items and the used
// stamps from their records.
func (s *Service) loadHolderUsage() error {
	st := &s.holder
	st.mu.Lock()
	defer st.mu.Unlock()
	st.usage = make(map[string]usage)
	st.stamps = make(map[[32]byte]time.Time)
	st.total = 0
	err := s.mbox.Iterate([]byte("i/"), func(k, v []byte) error {
		it, err := decodeHeldItem(v)
		if err != nil {
			return err
		}
		if len(k) != 2+sha256.Size+msgIDLen {
			return fmt.Errorf("chat: stored mailbox item key %x is malformed", k)
		}
		st.account(k[2:2+sha256.Size], it, 1)
		return nil
	})
	if err != nil {
		return err
	}
	return s.mbox.Iterate([]byte("u/"), func(k, v []byte) error {
		if len(k) != 2+32 || len(v) != 8 {
			return fmt.Errorf("chat: stored stamp %x is malformed", k)
		}
		var w [32]byte
		copy(w[:], k[2:])
		st.stamps[w] = time.UnixMilli(int64(binary.BigEndian.Uint64(v)))
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
	case opSealedPut:
		// No peer is logged here: a sealed deposit's connection is its
		// sender's, which this holder is not to record.
		return s.holdSealedPut(q, now), nil
	case opSealedDelete:
		n, err := s.holdSealedDelete(q.Mailbox, q.Secrets)
		if err != nil {
			return encodeResponse(statusError, err.Error()), nil
		}
		return encodeDeleteResponse(n), nil
	case opPut:
		if s.cfg.Holder.RefusePlain {
			s.holder.counts.plainRefuse.Add(1)
			return encodeResponse(statusRejected, "this holder takes sealed deposits only; update the node"), nil
		}
		st, err := s.holdPut(from, q.Envelope, now)
		if st == statusOK {
			s.holder.counts.plainPuts.Add(1)
		}
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
	if err := env.verify(&s.keys); err != nil {
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
	u := st.usage[senderUsage(from)]
	lim := s.cfg.Holder
	if u.items+1 > lim.MaxItemsPerSender || u.bytes+it.size() > lim.MaxBytesPerSender {
		return statusQuota, nil, fmt.Errorf("sender %s is at its quota here (%d items, %d bytes)", from, u.items, u.bytes)
	}
	if err := s.checkMailboxQuota(mk, it); err != nil {
		return statusQuota, nil, err
	}
	b := s.mbox.NewBatch()
	b.Set(itemKey(mk, env.ID), it.encode())
	b.Set(itemExpKey(it.Expires, mk, env.ID), nil)
	durable, err := b.CommitAsync()
	if err != nil {
		return statusError, nil, err
	}
	st.account(mk, it, 1)
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
	var freed []*heldItem
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
		freed = append(freed, it)
		n++
	}
	if n == 0 {
		return 0, nil
	}
	if err := b.Commit(); err != nil {
		return 0, err
	}
	for _, it := range freed {
		st.account(mk, it, -1)
	}
	return n, nil
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
	st := &s.holder
	st.mu.Lock()
	defer st.mu.Unlock()
	b := s.mbox.NewBatch()
	type freedItem struct {
		mk []byte
		it *heldItem
	}
	var freed []freedItem
	for _, d := range due {
		b.Delete(d.key)
		v, err := s.mbox.Get(d.item)
		if err != nil {
			continue // already deleted by its owner or sender
		}
		if it, err := decodeHeldItem(v); err == nil {
			freed = append(freed, freedItem{mk: d.item[2 : 2+sha256.Size], it: it})
		}
		b.Delete(d.item)
	}
	var forget [][32]byte
	for w, until := range st.stamps {
		if !now.Before(until) {
			b.Delete(stampKey(w))
			forget = append(forget, w)
		}
	}
	if len(due) == 0 && len(forget) == 0 {
		return nil
	}
	if err := b.Commit(); err != nil {
		return err
	}
	for _, f := range freed {
		st.account(f.mk, f.it, -1)
	}
	for _, w := range forget {
		delete(st.stamps, w)
	}
	return nil
}

var errStop = errors.New("stop iteration")
