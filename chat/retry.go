package chat

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/ledger"
)

// Re-sending failed messages. A message that neither its recipient nor any
// mailbox peer took (StatusFailed) is remembered under
//
//	rs/P<msgid:16>   seq:8 — an outgoing message to P to send again
//
// and sent again in the background: when this node makes a new
// connection (the partition may have healed), and otherwise after a delay
// that doubles from resendFirst to resendMax while nothing gets through.
// The message keeps its ID, time and timer; it is sealed afresh in the
// current session (the ciphertext that never arrived is a skipped message
// to the recipient), and the recipient stores a message ID once, so a
// message is shown there once however many times it is sent. On success
// its status becomes delivered or mailbox and listeners get the event; an
// expired or deleted message is dropped from the list. Group messages have
// their own fan-out and are not re-sent here.
const (
	resendFirst = 30 * time.Second
	resendMax   = 10 * time.Minute
	// resendGap is the least time between two passes that new connections
	// start: a node making many connections does not retry for each.
	resendGap = time.Second
)

func resendKey(p peer.ID, id MsgID) []byte {
	return append(append([]byte("rs/"), peerPart(p)...), id[:]...)
}

// resendItem is one message waiting to be sent again.
type resendItem struct {
	to  peer.ID
	id  MsgID
	seq uint64
}

func parseResendKey(k, v []byte) (resendItem, error) {
	rest, ok := bytes.CutPrefix(k, []byte("rs/"))
	if !ok || len(rest) < 1 || len(rest) != 1+int(rest[0])+msgIDLen || len(v) != 8 {
		return resendItem{}, fmt.Errorf("chat: malformed resend entry %x", k)
	}
	to, err := peer.IDFromBytes(rest[1 : 1+rest[0]])
	if err != nil {
		return resendItem{}, fmt.Errorf("chat: resend entry: %w", err)
	}
	it := resendItem{to: to, seq: binary.BigEndian.Uint64(v)}
	copy(it.id[:], rest[1+rest[0]:])
	return it, nil
}

// startResend starts the re-send loop, woken by new connections; it ends
// with ctx.
func (s *Service) startResend(ctx context.Context) {
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	notifee := &network.NotifyBundle{ConnectedF: func(network.Network, network.Conn) { poke() }}
	s.net.Host().Network().Notify(notifee)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.net.Host().Network().StopNotify(notifee)
		s.resendLoop(ctx, wake)
	}()
}

// rememberFailed adds a failed outgoing message to the re-send list: one
// write, not waited for (it is durable with the store's next sync, like the
// failed outcome it follows).
func (s *Service) rememberFailed(to peer.ID, id MsgID, seq uint64) {
	b := s.space.NewBatch()
	b.Set(resendKey(to, id), binary.BigEndian.AppendUint64(nil, seq))
	if _, err := b.CommitAsync(); err != nil {
		s.log.Warn("remembering a failed message to re-send it", "to", to, "id", id, "err", err)
	}
}

// resendLoop runs passes until ctx ends: at start, on a new connection (at
// most one per resendGap), and after the current delay.
func (s *Service) resendLoop(ctx context.Context, wake <-chan struct{}) {
	delay := resendFirst
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-wake:
			if gap := resendGap - time.Since(last); gap > 0 {
				timer.Reset(gap)
				continue
			}
		}
		last = time.Now()
		sent, left := s.resendPass(ctx, last)
		switch {
		case sent > 0 || left == 0:
			delay = resendFirst
		default:
			delay = min(2*delay, resendMax)
		}
		timer.Reset(delay)
	}
}

// resendPass tries every message on the list once, in each conversation in
// order and stopping at a conversation's first failure. It returns how
// many got through and how many are left.
func (s *Service) resendPass(ctx context.Context, now time.Time) (sent, left int) {
	var items []resendItem
	err := s.space.Iterate([]byte("rs/"), func(k, v []byte) error {
		it, err := parseResendKey(k, v)
		if err != nil {
			s.log.Warn("dropping a malformed resend entry", "err", err)
			s.dropResend(k)
			return nil
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		s.log.Warn("reading the messages to re-send", "err", err)
		return 0, 0
	}
	slices.SortFunc(items, func(a, b resendItem) int {
		if c := cmp.Compare(a.to, b.to); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	var stuck peer.ID
	for _, it := range items {
		if ctx.Err() != nil {
			return sent, len(items) - sent
		}
		if it.to == stuck {
			left++
			continue
		}
		ok, err := s.resend(ctx, it, now)
		switch {
		case err != nil:
			s.log.Warn("re-sending a message", "to", it.to, "id", it.id, "err", err)
			left++
			stuck = it.to
		case ok:
			sent++
		default:
			left++
			stuck = it.to
		}
	}
	return sent, left
}

func (s *Service) dropResend(k []byte) {
	b := s.space.NewBatch()
	b.Delete(k)
	if _, err := b.CommitAsync(); err != nil {
		s.log.Warn("dropping a resend entry", "err", err)
	}
}

// resend sends one listed message again. ok is true when it got through
// or no longer needs to (then it leaves the list).
func (s *Service) resend(ctx context.Context, it resendItem, now time.Time) (ok bool, err error) {
	key := resendKey(it.to, it.id)
	m, err := s.loadMessage(it.to, it.seq)
	if errors.Is(err, ledger.ErrNotFound) {
		s.dropResend(key) // deleted, or its timer ran out
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var c content
	switch {
	case m.ID != it.id.String() || m.Direction != DirOut || m.Status != StatusFailed:
		s.dropResend(key)
		return false, nil
	case !m.Expires.IsZero() && !now.Before(m.Expires):
		s.dropResend(key)
		return false, nil
	case m.Kind == KindText:
		c = content{Kind: kindText, Text: m.Text}
	case m.Kind == KindTimer:
		c = content{Kind: kindTimer, Timer: time.Duration(m.TimerS) * time.Second}
	default:
		s.dropResend(key)
		return false, nil
	}
	env, raw, err := s.reseal(ctx, it.to, it.id, m, c)
	if err != nil {
		return false, err
	}
	status, holders := s.deliver(ctx, env, raw)
	if status == StatusFailed {
		return false, nil
	}
	m.Status, m.Holders = status, len(holders)
	b := s.space.NewBatch()
	b.Delete(key)
	if _, err := b.CommitAsync(); err != nil {
		return false, fmt.Errorf("chat: drop resend entry: %w", err)
	}
	if err := s.setOutcome(env, m, holders, false); err != nil {
		return true, err
	}
	s.metrics.inc(DirOut, status)
	s.emit(it.to, DirOut, m.ID, status)
	s.log.Info("a failed message got through", "to", it.to, "id", m.ID, "status", status)
	return true, nil
}

// reseal encrypts c again, as message id of m, in the current session with
// to, and stores the advanced session before the envelope leaves.
func (s *Service) reseal(ctx context.Context, to peer.ID, id MsgID, m *Message, c content) (env *envelope, raw []byte, err error) {
	plain, err := c.encode()
	if err != nil {
		return nil, nil, err
	}
	var ttl time.Duration
	if !m.Expires.IsZero() {
		ttl = m.Expires.Sub(m.Sent).Round(time.Second)
	}
	return s.sealTo(ctx, to, id, time.UnixMilli(m.Sent.UnixMilli()), ttl, plain)
}
