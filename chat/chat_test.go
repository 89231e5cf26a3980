package chat

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestOnline runs the checks that need the three nodes up, on one cluster.
func TestOnline(t *testing.T) {
	_, s := chatCluster(t, 3)
	t.Run("BothWays", func(t *testing.T) { testBothWays(t, s[0], s[1]) })
	t.Run("ReplaysAndForgeries", func(t *testing.T) { testReplaysAndForgeries(t, s[0], s[1], s[2]) })
	t.Run("MailboxAuthorization", func(t *testing.T) { testMailboxAuthorization(t, s[0], s[1], s[2]) })
	t.Run("HTTP", func(t *testing.T) { testHTTP(t, s[2], s[1]) })
}

func testBothWays(t *testing.T, a, b *Service) {
	ctx := context.Background()
	aEvents, bEvents := make(chan Event, 16), make(chan Event, 16)
	defer a.OnEvent(func(e Event) { aEvents <- e })()
	defer b.OnEvent(func(e Event) { bEvents <- e })()

	m, err := a.Send(ctx, b.self, "hello b", 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != StatusDelivered || m.Direction != DirOut || m.Seq != 1 {
		t.Fatalf("sent = %+v, want delivered, out, seq 1", m)
	}
	// The receiver's event came before its ack, the sender's after it.
	if e := <-bEvents; e != (Event{Peer: a.self.String(), Direction: DirIn, ID: m.ID}) {
		t.Fatalf("b's event = %+v, want the incoming message %s from a", e, m.ID)
	}
	if e := <-aEvents; e != (Event{Peer: b.self.String(), Direction: DirOut, ID: m.ID, Status: StatusDelivered}) {
		t.Fatalf("a's event = %+v, want %s delivered to b", e, m.ID)
	}
	// The ack came after the durable store: no waiting needed.
	if got := texts(t, b, a.self); !slices.Equal(got, []string{"hello b"}) {
		t.Fatalf("b has %q", got)
	}
	in, err := b.Inbox()
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Conversations) != 1 || in.Conversations[0].Peer != a.self.String() || in.Conversations[0].Unread != 1 {
		t.Fatalf("b's inbox = %+v, want one conversation with a, 1 unread", in)
	}

	for i, text := range []string{"hi a", "second", "third"} {
		if m, err := b.Send(ctx, a.self, text, 0); err != nil || m.Status != StatusDelivered {
			t.Fatalf("reply %d: %+v, %v", i, m, err)
		}
	}
	if _, err := a.Send(ctx, b.self, "after the reply", 0); err != nil {
		t.Fatal(err)
	}
	page, err := a.Messages(b.self, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range page.Messages {
		got = append(got, m.Direction+":"+m.Text)
	}
	want := []string{"out:hello b", "in:hi a", "in:second", "in:third", "out:after the reply"}
	if !slices.Equal(got, want) {
		t.Fatalf("a's conversation = %q, want %q", got, want)
	}
	// Reading marked it read; since= follows from the cursor.
	in, _ = a.Inbox()
	if in.Conversations[0].Unread != 0 || in.Conversations[0].Messages != 5 {
		t.Fatalf("a's inbox after reading = %+v", in.Conversations[0])
	}
	if _, err := b.Send(ctx, a.self, "new", 0); err != nil {
		t.Fatal(err)
	}
	next, err := a.Messages(b.self, page.Next, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Messages) != 1 || next.Messages[0].Text != "new" {
		t.Fatalf("messages since %d = %+v, want only the new one", page.Next, next.Messages)
	}
	if got := texts(t, b, a.self); len(got) != 6 {
		t.Fatalf("b has %d messages, want 6: %q", len(got), got)
	}
}

func TestOfflineRecipientGetsMailboxAfterRestart(t *testing.T) {
	c, s := chatCluster(t, 3)
	a, b, cc := s[0], s[1], s[2]
	ctx := context.Background()
	secret := "meet at the old mill at nine"

	cc.Stop()
	c[2].Stop()
	m, err := a.Send(ctx, cc.self, secret, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != StatusMailbox || m.Holders < 1 {
		t.Fatalf("sent to an offline peer = %+v, want held by mailboxes", m)
	}
	if n := heldCount(t, b); n != 1 {
		t.Fatalf("b holds %d items, want 1", n)
	}
	assertNoPlaintext(t, b, c[1].Store.Dir(), []byte(secret))
	assertNoPlaintext(t, b, c[1].Store.Dir(), []byte("old mill"))

	c[2].Restart(t) // same store and identity, as a restarted daemon
	back := startChat(t, c[2])
	waitFor(t, "the restarted recipient to fetch its mailbox", func() bool {
		if got := texts(t, back, a.self); len(got) == 1 {
			if got[0] != secret {
				t.Fatalf("restarted c got %q", got[0])
			}
			return true
		}
		_, _ = back.FetchMailbox(ctx)
		return false
	})
	waitFor(t, "the holder to delete the fetched item", func() bool { return heldCount(t, b) == 0 })

	// The session survived on both sides: a reply goes back directly.
	if m, err := back.Send(ctx, a.self, "got it", 0); err != nil || m.Status != StatusDelivered {
		t.Fatalf("reply after restart: %+v, %v", m, err)
	}
	if got := texts(t, a, back.self); !slices.Equal(got, []string{secret, "got it"}) {
		t.Fatalf("a's conversation with c = %q", got)
	}
}

func TestTimersDeleteEverywhere(t *testing.T) {
	c, s := chatCluster(t, 3)
	a, b, cc := s[0], s[1], s[2]
	ctx := context.Background()

	if _, err := a.SetTimer(ctx, b.self, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if in, _ := b.Inbox(); len(in.Conversations) != 1 || in.Conversations[0].TimerS != 2 {
		t.Fatalf("b's inbox after a set the timer = %+v, want timer 2s", in)
	}
	m, err := a.Send(ctx, b.self, "self-destructs", 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Expires.IsZero() || m.Expires.Sub(m.Sent) != 2*time.Second {
		t.Fatalf("message under a 2s conversation timer = %+v", m)
	}
	if _, err := a.Send(ctx, b.self, "stays", time.Hour); err != nil {
		t.Fatal(err)
	}

	cc.Stop()
	c[2].Stop()
	held, err := a.Send(ctx, cc.self, "held briefly", time.Second)
	if err != nil || held.Status != StatusMailbox {
		t.Fatalf("send to offline c: %+v, %v", held, err)
	}
	if heldCount(t, b) != 1 {
		t.Fatal("b does not hold the message for c")
	}

	gone := func(svc *Service) func() bool {
		return func() bool {
			got := texts(t, svc, a.self)
			if svc == a {
				got = texts(t, svc, b.self)
			}
			return !slices.Contains(got, "self-destructs") && slices.Contains(got, "stays")
		}
	}
	waitFor(t, "the sender to delete the expired message", gone(a))
	waitFor(t, "the recipient to delete the expired message", gone(b))
	waitFor(t, "the holder to delete the expired item", func() bool { return heldCount(t, b) == 0 })
	waitFor(t, "the sender to forget the expired message to c", func() bool { return len(texts(t, a, cc.self)) == 0 })
	for _, svc := range []*Service{a, b} {
		n := 0
		_ = svc.space.Iterate([]byte("x/"), func(_, _ []byte) error { n++; return nil })
		if n != 1 { // "stays" only
			t.Errorf("%s keeps %d expiry index entries, want 1", svc.self, n)
		}
	}
}
