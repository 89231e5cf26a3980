package chat

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// msgStreams counts the open MsgProtocol streams from s to p.
func msgStreams(s *Service, p peer.ID) int {
	n := 0
	for _, c := range s.net.Host().Network().ConnsToPeer(p) {
		for _, st := range c.GetStreams() {
			if st.Protocol() == MsgProtocol {
				n++
			}
		}
	}
	return n
}

func sendAll(t *testing.T, a, b *Service, texts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, text := range texts {
		if m, err := a.Send(ctx, b.self, text, 0); err != nil || m.Status != StatusDelivered {
			t.Fatalf("send %q: %+v, %v", text, m, err)
		}
	}
}

// TestMessagesShareOneStream: one message after the other to the same peer
// go over one stream, and every one is stored.
func TestMessagesShareOneStream(t *testing.T) {
	_, svcs := chatCluster(t, 2)
	a, b := svcs[0], svcs[1]
	want := []string{"one", "two", "three", "four", "five"}
	sendAll(t, a, b, want...)
	if n := msgStreams(a, b.self); n != 1 {
		t.Fatalf("%d message streams to b after %d messages, want 1", n, len(want))
	}
	if got := texts(t, b, a.self); !slices.Equal(got, want) {
		t.Fatalf("b stores %q, want %q", got, want)
	}
}

// TestOneShotRecipient: a recipient that answers one envelope per stream
// and closes it, as nodes did before streams were reused, still gets every
// message, and the sender stops trying to reuse streams to it.
func TestOneShotRecipient(t *testing.T) {
	_, svcs := chatCluster(t, 2)
	a, b := svcs[0], svcs[1]
	b.net.HandleRequest(MsgProtocol, b.handleMsg, maxEnvelope, 30*time.Second)
	want := []string{"one", "two", "three"}
	sendAll(t, a, b, want...)
	if got := texts(t, b, a.self); !slices.Equal(got, want) {
		t.Fatalf("b stores %q, want %q", got, want)
	}
	a.streams.mu.Lock()
	_, oneShot := a.streams.oneShot[b.self]
	a.streams.mu.Unlock()
	if !oneShot {
		t.Fatal("a still reuses streams to a recipient that closes them")
	}
}

// TestRemovedHandlerRefusesOnOpenStream: once the recipient stops serving
// the message protocol, a message is not delivered on a stream opened
// before; it goes to the mailboxes as it would have on a new stream.
func TestRemovedHandlerRefusesOnOpenStream(t *testing.T) {
	_, svcs := chatCluster(t, 3)
	a, b := svcs[0], svcs[1]
	sendAll(t, a, b, "before")
	if n := msgStreams(a, b.self); n != 1 {
		t.Fatalf("%d message streams to b, want 1 idle", n)
	}
	b.stopServingMsgs()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := a.Send(ctx, b.self, "after", 0)
	if err != nil || m.Status != StatusMailbox {
		t.Fatalf("send after the handler was removed: %+v, %v; want it left in mailboxes", m, err)
	}
	if got := texts(t, b, a.self); slices.Contains(got, "after") {
		t.Fatalf("b stored %q directly after it stopped serving the protocol", got)
	}
}
