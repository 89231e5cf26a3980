package chat

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestRestartAfterLostStatesReusesNoKey: messages left ahead of their
// session states (send.go), then a crash lost those states; the node,
// restarted on the older stored state, must not reuse their message keys:
// its next message is stored by the peer, not refused as a replay (which
// the sender would take for delivered).
func TestRestartAfterLostStatesReusesNoKey(t *testing.T) {
	_, svcs := chatCluster(t, 2)
	a, b := svcs[0], svcs[1]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	send := func(text string) {
		t.Helper()
		if m, err := a.Send(ctx, b.self, text, 0); err != nil || m.Status != StatusDelivered {
			t.Fatalf("send %q: %+v, %v", text, m, err)
		}
	}
	send("m0")
	saved, err := a.space.Get(sessKey(b.self)) // the last state to survive
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"m1", "m2", "m3"} {
		send(text)
	}
	// The crash: the stored sessions go back to saved, and the restarted
	// node has read no sessions yet.
	w := a.space.NewBatch()
	w.Set(sessKey(b.self), saved)
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	a.sessions.mu.Lock()
	a.sessions.m, a.sessions.resumed = nil, nil
	a.sessions.mu.Unlock()

	send("after")
	if got := texts(t, b, a.self); !slices.Contains(got, "after") {
		t.Fatalf("b did not store the message sent after the restart (a reused a message key); b has %q, %d duplicates",
			got, b.stats.duplicates.Load())
	}
	// Read again in the same run, the stored sessions are not resumed
	// twice: they already hold the skip.
	a.sessions.drop(b.self)
	send("again")
	if got := texts(t, b, a.self); !slices.Contains(got, "again") {
		t.Fatalf("b did not store the message sent after a second read: %q", got)
	}
	// Forgotten as resumed (the set is bounded), the sessions are resumed
	// again at their next read: numbers are skipped, none is reused.
	a.sessions.mu.Lock()
	a.sessions.resumed = nil
	a.sessions.mu.Unlock()
	a.sessions.drop(b.self)
	send("forgotten")
	if got := texts(t, b, a.self); !slices.Contains(got, "forgotten") {
		t.Fatalf("b did not store the message sent after the resumed mark was forgotten: %q", got)
	}
}

// TestResumedPeersBounded: the peers remembered as resumed stay at most
// maxResumedPeers however many there are, and those whose sessions are
// cached are not the ones forgotten.
func TestResumedPeersBounded(t *testing.T) {
	var c sessionCache
	cached := []peer.ID{"cached-0", "cached-1", "cached-2"}
	for _, p := range cached {
		c.set(p, nil)
		c.markResumed(p)
	}
	for i := range maxResumedPeers + 100 {
		c.markResumed(peer.ID(fmt.Sprint("peer-", i)))
	}
	if n := len(c.resumed); n != maxResumedPeers {
		t.Fatalf("%d peers remembered as resumed, want %d", n, maxResumedPeers)
	}
	for _, p := range cached {
		if !c.isResumed(p) {
			t.Fatalf("%s, whose sessions are cached, was forgotten as resumed", p)
		}
	}
}
