package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Conversation summarizes the conversation with one peer.
type Conversation struct {
	Peer     string    `json:"peer"`
	Unread   int       `json:"unread"`
	Messages int       `json:"messages"`
	TimerS   int64     `json:"timer_s"` // default message timer; 0: none
	LastAt   time.Time `json:"last_at,omitzero"`
	Rejected uint64    `json:"rejected"` // messages from this peer that failed authentication
}

// Inbox lists the conversations, most recent first, with the counters of
// refused messages since the service started.
type Inbox struct {
	Conversations []Conversation `json:"conversations"`
	Rejected      uint64         `json:"rejected"`   // failed a check (forged, undecryptable, malformed) since start
	Duplicates    uint64         `json:"duplicates"` // replays and redeliveries dropped since start
}

// MessagePage is a page of a conversation.
type MessagePage struct {
	Peer     string    `json:"peer"`
	Messages []Message `json:"messages"`
	// Next is the cursor to pass as since to get the messages after these.
	Next uint64 `json:"next"`
}

// Inbox lists the conversations.
func (s *Service) Inbox() (*Inbox, error) {
	in := &Inbox{Conversations: []Conversation{}, Rejected: s.stats.rejected.Load(), Duplicates: s.stats.duplicates.Load()}
	err := s.space.Iterate([]byte("c/"), func(k, v []byte) error {
		if len(k) < 3 || int(k[2]) != len(k)-3 {
			return nil
		}
		var m convMeta
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("chat: stored conversation is corrupt: %w", err)
		}
		in.Conversations = append(in.Conversations, Conversation{
			Peer: peer.ID(k[3:]).String(), Unread: m.Unread, Messages: m.Count,
			TimerS: m.Timer, LastAt: m.LastAt, Rejected: m.Rejected,
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chat: list conversations: %w", err)
	}
	slices.SortFunc(in.Conversations, func(a, b Conversation) int { return b.LastAt.Compare(a.LastAt) })
	return in, nil
}

// Messages returns up to limit messages of the conversation with p after
// seq since (0: from the start), and marks the conversation read up to the
// last one returned.
func (s *Service) Messages(p peer.ID, since uint64, limit int) (*MessagePage, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	unlock := s.lockPeer(p)
	defer unlock()
	page := &MessagePage{Peer: p.String(), Messages: []Message{}, Next: since}
	start := msgKey(p, since+1)
	prefix := msgPrefix(p)
	err := s.space.Iterate(prefix, func(k, v []byte) error {
		if bytes.Compare(k, start) < 0 {
			return nil
		}
		if len(page.Messages) == limit {
			return errStop
		}
		var m Message
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("chat: stored message is corrupt: %w", err)
		}
		page.Messages = append(page.Messages, m)
		page.Next = m.Seq
		return nil
	})
	if err != nil && err != errStop {
		return nil, fmt.Errorf("chat: read messages with %s: %w", p, err)
	}
	meta, ok, err := s.loadMeta(p)
	if err != nil || !ok || page.Next <= meta.ReadSeq {
		return page, err
	}
	// Unread counts incoming messages after ReadSeq; recount what remains.
	unread := 0
	for _, m := range page.Messages {
		if m.Direction == DirIn && m.Seq > meta.ReadSeq {
			unread++
		}
	}
	meta.ReadSeq = page.Next
	meta.Unread = max(0, meta.Unread-unread)
	b := s.space.NewBatch()
	s.putMeta(b, p, meta)
	if err := b.Commit(); err != nil {
		return nil, fmt.Errorf("chat: mark messages read: %w", err)
	}
	return page, nil
}

// DeleteConversation deletes every message of the conversation with p and
// the conversation itself from this node. The sessions stay, so later
// messages still decrypt. It returns the number of messages deleted.
func (s *Service) DeleteConversation(p peer.ID) (int, error) {
	unlock := s.lockPeer(p)
	defer unlock()
	b := s.space.NewBatch()
	n := 0
	collect := func(prefix []byte, count bool) error {
		return s.space.Iterate(prefix, func(k, _ []byte) error {
			b.Delete(bytes.Clone(k))
			if count {
				n++
			}
			return nil
		})
	}
	if err := collect(msgPrefix(p), true); err != nil {
		return 0, fmt.Errorf("chat: delete conversation: %w", err)
	}
	if err := collect(append([]byte("id/"), peerPart(p)...), false); err != nil {
		return 0, fmt.Errorf("chat: delete conversation: %w", err)
	}
	// Expiry index entries are found by the sweeper and skipped when their
	// message is gone.
	b.Delete(convKey(p))
	if err := b.Commit(); err != nil {
		return 0, fmt.Errorf("chat: delete conversation: %w", err)
	}
	return n, nil
}
