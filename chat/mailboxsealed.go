package chat

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tonmesh/tonmesh/ledger"
)

// holderCounters count the sealed deposits a holder took and refused.
type holderCounters struct {
	deposits    atomic.Uint64
	badWork     atomic.Uint64 // too few bits
	replays     atomic.Uint64 // a stamp already used
	stale       atomic.Uint64 // a stamp's time outside the window
	quota       atomic.Uint64 // the mailbox or the holder is full
	rejected    atomic.Uint64 // malformed, expired, or for this node
	senderDels  atomic.Uint64 // items deleted by their delete secret
	badSecrets  atomic.Uint64 // delete secrets that matched no item
	duplicates  atomic.Uint64
	plainPuts   atomic.Uint64 // plain (unsealed) deposits taken
	plainRefuse atomic.Uint64 // plain deposits refused by RefusePlain
}

// HolderStats is what this node holds for others and how it answered
// deposits since it started.
type HolderStats struct {
	Items         int    `json:"items"`
	Bytes         int64  `json:"bytes"`
	Mailboxes     int    `json:"mailboxes"`
	UsedStamps    int    `json:"used_stamps"`
	Deposits      uint64 `json:"sealed_deposits"`
	Duplicates    uint64 `json:"sealed_duplicates"`
	RefusedWork   uint64 `json:"refused_insufficient_work"`
	RefusedReplay uint64 `json:"refused_replayed_stamp"`
	RefusedStale  uint64 `json:"refused_stale_stamp"`
	RefusedQuota  uint64 `json:"refused_quota"`
	Rejected      uint64 `json:"rejected"`
	SenderDeletes uint64 `json:"sender_deletes"`
	BadSecrets    uint64 `json:"unmatched_delete_secrets"`
	PlainPuts     uint64 `json:"plain_deposits"`
	PlainRefused  uint64 `json:"plain_deposits_refused"`
	RefusesPlain  bool   `json:"refuses_plain_deposits"` // Holder.RefusePlain
}

// HolderStats reports the mailbox items this node holds and its deposit
// counters.
func (s *Service) HolderStats() HolderStats {
	st := &s.holder
	st.mu.Lock()
	out := HolderStats{Bytes: st.total, UsedStamps: len(st.stamps), RefusesPlain: s.cfg.Holder.RefusePlain}
	for k, u := range st.usage {
		if k[0] == 'm' {
			out.Items += u.items
			out.Mailboxes++
		}
	}
	st.mu.Unlock()
	c := &st.counts
	out.Deposits, out.Duplicates = c.deposits.Load(), c.duplicates.Load()
	out.RefusedWork, out.RefusedReplay, out.RefusedStale = c.badWork.Load(), c.replays.Load(), c.stale.Load()
	out.RefusedQuota, out.Rejected = c.quota.Load(), c.rejected.Load()
	out.SenderDeletes, out.BadSecrets = c.senderDels.Load(), c.badSecrets.Load()
	out.PlainPuts, out.PlainRefused = c.plainPuts.Load(), c.plainRefuse.Load()
	return out
}

// checkMailboxQuota refuses item it when mailbox mk or the holder's space
// would be over its limit; holder.mu is held.
func (s *Service) checkMailboxQuota(mk []byte, it *heldItem) error {
	st, lim := &s.holder, s.cfg.Holder
	u := st.usage[mailboxUsage(mk)]
	if u.items+1 > lim.MaxItemsPerMailbox || u.bytes+it.size() > lim.MaxBytesPerMailbox {
		return fmt.Errorf("the mailbox is at its quota here (%d items, %d bytes); its owner has to fetch it", u.items, u.bytes)
	}
	if st.total+it.size() > lim.MaxBytes {
		return errors.New("this holder's mailbox space is full")
	}
	return nil
}

// holdSealedPut keeps a sealed item for the owner of mailbox q.Mailbox if
// its stamp is fresh, unused and has Holder.PowBits of work, and the
// mailbox has room. It answers the encoded response.
func (s *Service) holdSealedPut(q *mailboxReq, now time.Time) []byte {
	c := &s.holder.counts
	refuse := func(n *atomic.Uint64, status byte, reason string) []byte {
		n.Add(1)
		s.log.Debug("sealed deposit refused", "status", status, "reason", reason)
		return encodeResponse(status, reason)
	}
	sit, err := decodeSealedItem(q.Item)
	switch {
	case err != nil:
		return refuse(&c.rejected, statusRejected, err.Error())
	case bytes.Equal(q.Mailbox, mailboxKey(s.self)):
		return refuse(&c.rejected, statusRejected, "this node is the recipient: deliver directly")
	case !now.Before(q.Expires):
		return refuse(&c.rejected, statusRejected, errExpired.Error())
	}
	if d := now.Sub(q.Stamp.At); d > stampWindow || d < -stampWindow {
		return refuse(&c.stale, statusRejected, fmt.Sprintf("the stamp is dated %s, more than %v from this holder's clock", q.Stamp.At.UTC().Format(time.RFC3339), stampWindow))
	}
	work := q.Stamp.work(s.self, depositDigest(q.Mailbox, q.Expires, q.DeleteHash, q.Item))
	if bits := leadingZeros(work); bits < s.cfg.Holder.PowBits {
		c.badWork.Add(1)
		s.log.Debug("sealed deposit refused", "reason", "insufficient work", "bits", bits)
		return encodeMoreWorkResponse(s.cfg.Holder.PowBits, fmt.Sprintf("the stamp has %d bits of work; this holder wants %d", bits, s.cfg.Holder.PowBits))
	}
	exp := q.Expires
	if limit := now.Add(s.cfg.Holder.MaxAge); exp.After(limit) {
		exp = limit
	}
	it := &heldItem{Expires: time.UnixMilli(exp.UnixMilli()), DeleteHash: q.DeleteHash, Envelope: q.Item}
	st := &s.holder
	st.mu.Lock()
	if _, used := st.stamps[work]; used {
		st.mu.Unlock()
		return refuse(&c.replays, statusRejected, "the stamp was used already: make a new one")
	}
	if _, err := s.mbox.Get(itemKey(q.Mailbox, sit.ID)); err == nil {
		st.mu.Unlock()
		c.duplicates.Add(1)
		if err := s.store.Sync(); err != nil {
			return encodeResponse(statusError, err.Error())
		}
		return encodeResponse(statusDuplicate, "")
	} else if !errors.Is(err, ledger.ErrNotFound) {
		st.mu.Unlock()
		return encodeResponse(statusError, err.Error())
	}
	if err := s.checkMailboxQuota(q.Mailbox, it); err != nil {
		st.mu.Unlock()
		return refuse(&c.quota, statusQuota, err.Error())
	}
	until := q.Stamp.At.Add(stampWindow)
	b := s.mbox.NewBatch()
	b.Set(itemKey(q.Mailbox, sit.ID), it.encode())
	b.Set(itemExpKey(it.Expires, q.Mailbox, sit.ID), nil)
	b.Set(stampKey(work), binaryTime(until))
	durable, err := b.CommitAsync()
	if err != nil {
		st.mu.Unlock()
		return encodeResponse(statusError, err.Error())
	}
	st.stamps[work] = until
	st.account(q.Mailbox, it, 1)
	st.mu.Unlock()
	// Applied under holder.mu; the fsync is shared by concurrent puts.
	if err := durable(); err != nil {
		return encodeResponse(statusError, err.Error())
	}
	c.deposits.Add(1)
	s.log.Debug("sealed deposit held", "mailbox", fmt.Sprintf("%x", q.Mailbox[:8]), "bytes", len(q.Item), "expires", it.Expires)
	return encodeResponse(statusOK, "")
}

func binaryTime(t time.Time) []byte { return binary.BigEndian.AppendUint64(nil, uint64(t.UnixMilli())) }

// holdSealedDelete removes the sealed items of mailbox mk whose delete
// secrets are given: each secret names its item (sealedItemID) and proves
// the right to delete it (deleteHash). It returns how many it removed.
func (s *Service) holdSealedDelete(mk []byte, secrets [][32]byte) (uint64, error) {
	st := &s.holder
	st.mu.Lock()
	defer st.mu.Unlock()
	b := s.mbox.NewBatch()
	var freed []*heldItem
	for _, sec := range secrets {
		id := sealedItemID(sec)
		v, err := s.mbox.Get(itemKey(mk, id))
		if errors.Is(err, ledger.ErrNotFound) {
			continue // fetched, expired, or never here
		}
		if err != nil {
			return 0, err
		}
		it, err := decodeHeldItem(v)
		if err != nil {
			return 0, err
		}
		dh := deleteHash(sec)
		if !it.sealed() || !bytes.Equal(it.DeleteHash, dh[:]) {
			st.counts.badSecrets.Add(1)
			continue
		}
		b.Delete(itemKey(mk, id))
		b.Delete(itemExpKey(it.Expires, mk, id))
		freed = append(freed, it)
	}
	if len(freed) == 0 {
		return 0, nil
	}
	if err := b.Commit(); err != nil {
		return 0, err
	}
	for _, it := range freed {
		st.account(mk, it, -1)
	}
	st.counts.senderDels.Add(uint64(len(freed)))
	return uint64(len(freed)), nil
}
