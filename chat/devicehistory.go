package chat

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// History for a new device. Once a device has joined and stored the list,
// it asks the primary (opHistory), which hands it the last historyMessages
// messages of each of its historyConversations most recent conversations:
// each one a sync copy (flagSync, with flagIn for an incoming one) with
// its own ID, time and timer, sealed in the pairwise session with the
// device and delivered directly only, in order, stopping at the first
// failure (history never fills mailboxes). The device stores them like any
// sync copy, without counting them unread; a message it already has is a
// duplicate. Group messages are not handed over.
const (
	historyConversations = 20
	historyMessages      = 50
	historyTimeout       = 5 * time.Minute
)

// sendHistoryLater hands the history to device d in the background.
func (s *Service) sendHistoryLater(d peer.ID) {
	s.devices.mu.Lock()
	runCtx := s.devices.ctx
	s.devices.mu.Unlock()
	if runCtx == nil {
		return
	}
	ctx, cancel := context.WithTimeout(runCtx, historyTimeout)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		n, err := s.sendHistory(ctx, d)
		if err != nil {
			s.log.Warn("history for a new device stopped", "device", d, "sent", n, "err", err)
			return
		}
		s.log.Info("history handed to a new device", "device", d, "messages", n)
	}()
}

// sendHistory hands the history to device d and returns how many messages
// it took.
func (s *Service) sendHistory(ctx context.Context, d peer.ID) (int, error) {
	own := s.ownList()
	if own == nil || own.Identity != s.self || !own.has(d) {
		return 0, fmt.Errorf("chat: %s is not a device of this identity", d)
	}
	in, err := s.Inbox()
	if err != nil {
		return 0, err
	}
	convs := in.Conversations[:min(len(in.Conversations), historyConversations)]
	sent := 0
	now := time.Now()
	for _, cv := range convs {
		p, err := peer.Decode(cv.Peer)
		if err != nil || own.has(p) {
			continue
		}
		msgs, err := s.lastMessages(p, historyMessages)
		if err != nil {
			return sent, err
		}
		for _, m := range msgs {
			ok, err := s.handOver(ctx, d, p, own.Version, m, now)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
	}
	return sent, nil
}

// handOver sends one stored message to device d as a sync copy; ok is
// false for a message that does not go (expired, a kind or size a copy
// cannot carry).
func (s *Service) handOver(ctx context.Context, d, p peer.ID, listVer uint64, m Message, now time.Time) (ok bool, err error) {
	raw, err := hex.DecodeString(m.ID)
	if err != nil || len(raw) != msgIDLen || (!m.Expires.IsZero() && !now.Before(m.Expires)) {
		return false, nil
	}
	var id MsgID
	copy(id[:], raw)
	dc := &deviceContent{Sync: true, In: m.Direction == DirIn, Identity: s.self, ListVer: listVer, Peer: p}
	switch m.Kind {
	case KindText:
		dc.Kind, dc.Text = kindText, m.Text
	case KindTimer:
		dc.Kind, dc.Timer = kindTimer, time.Duration(m.TimerS)*time.Second
	default:
		return false, nil
	}
	plain, err := dc.encode()
	if err != nil {
		return false, nil
	}
	var ttl time.Duration
	if !m.Expires.IsZero() {
		ttl = m.Expires.Sub(m.Sent) / time.Second * time.Second
	}
	sent := time.UnixMilli(m.Sent.UnixMilli())
	env, envRaw, err := s.sealTo(ctx, d, id, sent, ttl, plain)
	if err != nil {
		return false, err
	}
	if err := s.direct(ctx, env.Recipient, envRaw, nil); err != nil {
		return false, fmt.Errorf("chat: hand message %s to %s: %w", m.ID, d, err)
	}
	return true, nil
}

// lastMessages returns up to n of the last messages of the conversation
// with p, oldest first.
func (s *Service) lastMessages(p peer.ID, n int) ([]Message, error) {
	var window [][]byte
	err := s.space.Iterate(msgPrefix(p), func(_, v []byte) error {
		if len(window) == n {
			window = window[1:]
		}
		window = append(window, bytes.Clone(v))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chat: read messages with %s: %w", p, err)
	}
	out := make([]Message, 0, len(window))
	for _, v := range window {
		var m Message
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, fmt.Errorf("chat: stored message is corrupt: %w", err)
		}
		out = append(out, m)
	}
	return out, nil
}
