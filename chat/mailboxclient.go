package chat

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// mailboxTimeout bounds one mailbox request.
const mailboxTimeout = 10 * time.Second

// putMailboxes leaves the envelope with up to MailboxReplicas peers closest
// to the recipient's mailbox key and returns those that took it. It
// deposits one sealed item (sealed.go), each holder paid with its own
// stamp; with Config.PlainDeposits, the envelope itself as before.
func (s *Service) putMailboxes(ctx context.Context, env *envelope, raw []byte) []peer.ID {
	cands := s.closestPeers(ctx, mailboxKey(env.Recipient), s.cfg.MailboxReplicas, env.Recipient)
	var put func(h peer.ID) (*response, error)
	if s.cfg.PlainDeposits {
		req := (&mailboxReq{Op: opPut, Envelope: raw}).body()
		put = func(h peer.ID) (*response, error) { return s.mailboxRequest(ctx, h, req, opPut) }
	} else {
		d, err := s.newDeposit(env, raw)
		if err != nil {
			s.log.Warn("seal a mailbox item", "to", env.Recipient, "err", err)
			return nil
		}
		put = func(h peer.ID) (*response, error) { return s.depositAt(ctx, h, d) }
	}
	var (
		mu   sync.Mutex
		took []peer.ID
		wg   sync.WaitGroup
	)
	for _, h := range cands {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := put(h)
			if err != nil || (r.Status != statusOK && r.Status != statusDuplicate) {
				s.log.Debug("mailbox put failed", "holder", h, "err", err, "reason", reasonOf(r))
				return
			}
			mu.Lock()
			took = append(took, h)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return took
}

// deposit is one sealed item ready to be paid for at each holder.
type deposit struct {
	mk      []byte
	expires time.Time
	delHash [32]byte
	item    []byte
	digest  [32]byte
}

// newDeposit seals raw to the envelope's recipient under the item ID and
// delete hash derived from its message ID (deleteSecret), so that every
// holder and every later re-send files it under the same ID.
func (s *Service) newDeposit(env *envelope, raw []byte) (*deposit, error) {
	secret := deleteSecret(s.sign, env.Recipient, env.ID)
	item, err := sealItem(env.Recipient, sealedItemID(secret), raw)
	if err != nil {
		return nil, err
	}
	exp := env.Sent.Add(s.cfg.Holder.MaxAge)
	if e := env.Expires(); !e.IsZero() && e.Before(exp) {
		exp = e
	}
	d := &deposit{mk: mailboxKey(env.Recipient), expires: time.UnixMilli(exp.UnixMilli()), delHash: deleteHash(secret), item: item}
	d.digest = depositDigest(d.mk, d.expires, d.delHash[:], d.item)
	return d, nil
}

// depositAt pays for d at holder h with Holder.PowBits of work, or once
// more with what h asks for if that is more (up to maxPowBits).
func (s *Service) depositAt(ctx context.Context, h peer.ID, d *deposit) (*response, error) {
	bits := s.cfg.Holder.PowBits
	for {
		st, err := mintStamp(ctx, h, d.digest, bits, time.Now())
		if err != nil {
			return nil, err
		}
		req := (&mailboxReq{Op: opSealedPut, Mailbox: d.mk, Expires: d.expires, DeleteHash: d.delHash[:], Stamp: st, Item: d.item}).body()
		r, err := s.mailboxRequest(ctx, h, req, opSealedPut)
		if err != nil || r.Status != statusMoreWork || r.Bits <= bits || r.Bits > maxPowBits {
			return r, err
		}
		bits = r.Bits
	}
}

func reasonOf(r *response) string {
	if r == nil {
		return ""
	}
	return r.Reason
}

func (s *Service) mailboxRequest(ctx context.Context, h peer.ID, req []byte, op byte) (*response, error) {
	rctx, cancel := context.WithTimeout(ctx, mailboxTimeout)
	defer cancel()
	resp, err := s.net.Request(rctx, h, MailboxProtocol, req, maxFetchResp)
	if err != nil {
		return nil, err
	}
	return decodeResponse(resp, op)
}

// FetchMailbox collects this node's messages from the peers closest to its
// mailbox key: it stores each (durably) and then tells the holder to delete
// it. It returns how many new messages it stored.
func (s *Service) FetchMailbox(ctx context.Context) (int, error) {
	holders := s.closestPeers(ctx, mailboxKey(s.self), s.cfg.MailboxReplicas+2)
	if len(holders) == 0 {
		return 0, fmt.Errorf("chat: fetch mailbox: no peers to ask; is the node connected?")
	}
	total := 0
	var lastErr error
	for _, h := range holders {
		n, err := s.fetchFrom(ctx, h)
		total += n
		if err != nil {
			lastErr = err
			s.log.Debug("mailbox fetch from holder failed", "holder", h, "err", err)
		}
	}
	if total > 0 {
		s.log.Info("messages fetched from mailboxes", "count", total)
	}
	if total == 0 && lastErr != nil {
		return 0, lastErr
	}
	return total, nil
}

// fetchFrom drains this node's mailbox at holder h.
func (s *Service) fetchFrom(ctx context.Context, h peer.ID) (int, error) {
	stored := 0
	for round := 0; round < 64; round++ {
		req, err := (&mailboxReq{Op: opFetch, Owner: s.self, Signer: s.self, At: time.Now()}).encodeSigned(s.id.PeerKey)
		if err != nil {
			return stored, err
		}
		r, err := s.mailboxRequest(ctx, h, req, opFetch)
		if err != nil {
			return stored, err
		}
		if r.Status != statusOK {
			return stored, fmt.Errorf("holder %s refused the fetch: %s", h, r.Reason)
		}
		var done []MsgID
		for _, raw := range r.Items {
			id, ok, n := s.takeItem(raw)
			stored += n
			if ok {
				done = append(done, id)
			}
		}
		if err := s.deleteAt(ctx, h, s.self, done); err != nil {
			return stored, err
		}
		if !r.More || len(done) == 0 {
			return stored, nil
		}
	}
	return stored, nil
}

// takeItem stores one fetched item: a sealed item is opened with this
// node's key, and the envelope inside (or a plain one) received and
// verified as if it came directly. It returns the holder's ID of the item,
// whether to have the holder delete it (stored, a duplicate, or refused
// for good: not when storing failed and may work later), and how many
// messages it stored (0 or 1).
func (s *Service) takeItem(raw []byte) (MsgID, bool, int) {
	var id MsgID
	if len(raw) > 0 && raw[0] == sealedVersion {
		sit, err := decodeSealedItem(raw)
		if err != nil {
			s.reject("", "undecodable sealed mailbox item", err)
			return id, false, 0 // no ID to delete it by; the holder drops it in time
		}
		id = sit.ID
		priv, err := sealPrivateKey(s.sign)
		if err == nil {
			raw, err = openSealed(priv, sit)
		}
		if err != nil {
			// Anyone may deposit: junk is deleted, not kept to its expiry.
			s.reject("", "unopenable sealed mailbox item", err)
			return id, true, 0
		}
	}
	env, err := decodeEnvelope(raw)
	if err != nil {
		s.reject("", "undecodable mailbox item", err)
		return id, id != MsgID{}, 0
	}
	if id == (MsgID{}) {
		id = env.ID // a plain item is filed under its message ID
	}
	st, err := s.receive(env, time.Now())
	switch st {
	case statusOK:
		return id, true, 1
	case statusError:
		s.log.Warn("store message from mailbox; will retry", "from", env.Sender, "err", err)
		return id, false, 0
	}
	return id, true, 0
}

// deleteAt asks holder h to delete ids from owner's mailbox: as the owner,
// by a request it signs (ids are the holder's item IDs); else as the
// sender of those messages (ids are message IDs), by their delete secrets,
// which name no sender (with Config.PlainDeposits, by a signed request).
func (s *Service) deleteAt(ctx context.Context, h, owner peer.ID, ids []MsgID) error {
	if owner != s.self && !s.cfg.PlainDeposits {
		mk := mailboxKey(owner)
		return s.deleteInBatches(ctx, h, ids, opSealedDelete, func(ids []MsgID) ([]byte, error) {
			q := &mailboxReq{Op: opSealedDelete, Mailbox: mk}
			for _, id := range ids {
				q.Secrets = append(q.Secrets, deleteSecret(s.sign, owner, id))
			}
			return q.body(), nil
		})
	}
	return s.deleteInBatches(ctx, h, ids, opDelete, func(ids []MsgID) ([]byte, error) {
		return (&mailboxReq{Op: opDelete, Signer: s.self, Owner: owner, At: time.Now(), IDs: ids}).encodeSigned(s.id.PeerKey)
	})
}

// deleteInBatches sends holder h one delete request (op, made by build) per
// maxDeleteIDs of ids.
func (s *Service) deleteInBatches(ctx context.Context, h peer.ID, ids []MsgID, op byte, build func([]MsgID) ([]byte, error)) error {
	for len(ids) > 0 {
		n := min(len(ids), maxDeleteIDs)
		req, err := build(ids[:n])
		if err != nil {
			return err
		}
		r, err := s.mailboxRequest(ctx, h, req, op)
		if err != nil {
			return fmt.Errorf("chat: delete mailbox items at %s: %w", h, err)
		}
		if r.Status != statusOK {
			return fmt.Errorf("chat: holder %s refused to delete: %s", h, r.Reason)
		}
		ids = ids[n:]
	}
	return nil
}
