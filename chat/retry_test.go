package chat

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// outStatus is the status of A's message id to p.
func outStatus(t *testing.T, s *Service, p peer.ID, id string) string {
	t.Helper()
	var status string
	err := s.space.Iterate(msgPrefix(p), func(k, v []byte) error {
		m, err := s.loadMessage(p, binaryTail(k))
		if err == nil && m.ID == id {
			status = m.Status
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return status
}

func resendCount(t *testing.T, s *Service) int {
	t.Helper()
	n := 0
	if err := s.space.Iterate([]byte("rs/"), func(_, _ []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func countOf(texts []string, text string) int {
	n := 0
	for _, s := range texts {
		if s == text {
			n++
		}
	}
	return n
}

// TestResendAfterPartition: A's recipient B and the only other peer C (a
// mailbox) are gone, so A's messages fail. When C comes back, A sends them
// again on its own, into C's mailbox; when B comes back it fetches them:
// each shows once at B and A's statuses say mailbox. A message
// B already has, sent again, is not shown twice.
func TestResendAfterPartition(t *testing.T) {
	ps, svcs := chatCluster(t, 3)
	a, b, c := svcs[0], svcs[1], svcs[2]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if m, err := a.Send(ctx, b.self, "before", 0); err != nil || m.Status != StatusDelivered {
		t.Fatalf("first message: %+v, %v", m, err)
	}

	b.Stop()
	c.Stop()
	ps[1].Stop()
	ps[2].Stop()
	var failed []*Message
	for _, text := range []string{"while away 1", "while away 2"} {
		m, err := a.Send(ctx, b.self, text, 0)
		if !errors.Is(err, ErrUndelivered) || m == nil || m.Status != StatusFailed {
			t.Fatalf("message with everyone gone: %+v, %v; want failed", m, err)
		}
		failed = append(failed, m)
	}
	if n := resendCount(t, a); n != 2 {
		t.Fatalf("%d messages listed to re-send, want 2", n)
	}

	// The mailbox peer comes back: A notices the connection and re-sends.
	ps[2].Restart(t)
	c = startChat(t, ps[2])
	for _, m := range failed {
		waitFor(t, "A's message "+m.ID+" to reach a mailbox", func() bool { return outStatus(t, a, b.self, m.ID) == StatusMailbox })
	}
	if n := resendCount(t, a); n != 0 {
		t.Errorf("%d messages still listed to re-send after they got through", n)
	}
	if heldCount(t, c) < 2 {
		t.Errorf("the mailbox peer holds %d items, want the 2 messages", heldCount(t, c))
	}

	// B comes back and fetches its mailbox: each message once (in the
	// order the mailbox gives them).
	ps[1].Restart(t)
	b = startChat(t, ps[1])
	waitFor(t, "B to receive the messages", func() bool { return len(texts(t, b, a.self)) >= 3 })
	got := texts(t, b, a.self)
	slices.Sort(got)
	want := []string{"before", "while away 1", "while away 2"}
	if !slices.Equal(got, want) {
		t.Fatalf("B's conversation with A: %q, want %q", got, want)
	}

	// A message B already has, sent again (as after a lost acknowledgement),
	// is acknowledged as delivered and not stored twice.
	m := failed[0]
	seqOf := func() uint64 {
		var seq uint64
		_ = a.space.Iterate(msgPrefix(b.self), func(k, _ []byte) error {
			if mm, err := a.loadMessage(b.self, binaryTail(k)); err == nil && mm.ID == m.ID {
				seq = mm.Seq
			}
			return nil
		})
		return seq
	}
	stored, err := a.loadMessage(b.self, seqOf())
	if err != nil {
		t.Fatal(err)
	}
	raw0, _ := hex.DecodeString(m.ID)
	var id MsgID
	copy(id[:], raw0)
	env, raw, err := a.reseal(ctx, b.self, id, stored, content{Kind: kindText, Text: stored.Text})
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := a.deliver(ctx, env, raw); status != StatusDelivered {
		t.Fatalf("the duplicate got %s, want delivered (acknowledged as a duplicate)", status)
	}
	if got := texts(t, b, a.self); countOf(got, "while away 1") != 1 || len(got) != 3 {
		t.Fatalf("B's conversation after a duplicate: %q", got)
	}
}

// TestResendDirect: with no mailbox peer at all, a message to an absent
// recipient fails; when the recipient comes back, A's new connection to
// it sends the message again, directly: delivered, once.
func TestResendDirect(t *testing.T) {
	ps, svcs := chatCluster(t, 2)
	a, b := svcs[0], svcs[1]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := a.Send(ctx, b.self, "hello", 0); err != nil {
		t.Fatal(err)
	}
	b.Stop()
	ps[1].Stop()
	m, err := a.Send(ctx, b.self, "are you there?", time.Hour)
	if !errors.Is(err, ErrUndelivered) || m.Status != StatusFailed {
		t.Fatalf("message to an absent peer: %+v, %v; want failed", m, err)
	}
	events := make(chan Event, 8)
	defer a.OnEvent(func(e Event) {
		select {
		case events <- e:
		default:
		}
	})()
	ps[1].Restart(t)
	b = startChat(t, ps[1])
	var e Event
	select {
	case e = <-events:
	case <-ctx.Done():
		t.Fatal("A never re-sent the message after B came back")
	}
	if e.ID != m.ID || e.Status != StatusDelivered || e.Direction != DirOut {
		t.Fatalf("event %+v: want message %s delivered", e, m.ID)
	}
	if st := outStatus(t, a, b.self, m.ID); st != StatusDelivered {
		t.Fatalf("stored status %s, want delivered", st)
	}
	if got := texts(t, b, a.self); countOf(got, "are you there?") != 1 || len(got) != 2 {
		t.Fatalf("B's conversation: %q", got)
	}
}
