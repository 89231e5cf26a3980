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
// to the recipient's mailbox key and returns those that took it.
func (s *Service) putMailboxes(ctx context.Context, env *envelope, raw []byte) []peer.ID {
	cands := s.closestPeers(ctx, mailboxKey(env.Recipient), s.cfg.MailboxReplicas, env.Recipient)
	req := (&mailboxReq{Op: opPut, Envelope: raw}).body()
	var (
		mu   sync.Mutex
		took []peer.ID
		wg   sync.WaitGroup
	)
	for _, h := range cands {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.mailboxRequest(ctx, h, req, opPut)
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
			env, err := decodeEnvelope(raw)
			if err != nil {
				s.reject("", "undecodable mailbox item", err)
				continue // the holder drops it at its maximum age
			}
			st, err := s.receive(env, time.Now())
			switch st {
			case statusOK:
				stored++
				done = append(done, env.ID)
			case statusError:
				s.log.Warn("store message from mailbox; will retry", "from", env.Sender, "err", err)
			default:
				done = append(done, env.ID)
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

// deleteAt asks holder h to delete ids from owner's mailbox, signed by this
// node (as the owner, or as the sender of those items).
func (s *Service) deleteAt(ctx context.Context, h, owner peer.ID, ids []MsgID) error {
	for len(ids) > 0 {
		n := min(len(ids), maxDeleteIDs)
		req, err := (&mailboxReq{Op: opDelete, Signer: s.self, Owner: owner, At: time.Now(), IDs: ids[:n]}).encodeSigned(s.id.PeerKey)
		if err != nil {
			return err
		}
		r, err := s.mailboxRequest(ctx, h, req, opDelete)
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
