package chat

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// messagesOf returns the stored messages of the conversation with p,
// without marking them read.
func messagesOf(t *testing.T, s *Service, p peer.ID) []Message {
	t.Helper()
	var out []Message
	err := s.space.Iterate(msgPrefix(p), func(k, _ []byte) error {
		m, err := s.loadMessage(p, binaryTail(k))
		if err != nil {
			return err
		}
		out = append(out, *m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// linkDevice joins dev to primary's identity through a link, and waits
// until each of watchers sees the new list in the DHT.
func linkDevice(t *testing.T, primary, dev *Service, name string, watchers ...*Service) {
	t.Helper()
	ctx := context.Background()
	link, _, err := primary.CreateDeviceLink(0)
	if err != nil {
		t.Fatal(err)
	}
	l, err := dev.JoinDevice(ctx, link, name)
	if err != nil {
		t.Fatal(err)
	}
	if l.Identity != primary.self || !l.has(dev.self) || dev.Identity() != primary.self {
		t.Fatalf("after join: list of %s, device listed %v, identity %s", l.Identity, l.has(dev.self), dev.Identity())
	}
	if _, err := dev.JoinDevice(ctx, link, name); err != nil {
		t.Fatalf("joining again the same identity: %v", err)
	}
	for _, w := range watchers {
		waitFor(t, w.self.String()+" sees "+dev.self.String()+" in the DHT", func() bool {
			return w.refreshDeviceList(ctx, primary.self, 0).has(dev.self)
		})
	}
}

func after(pre []string, more ...string) []string { return append(slices.Clone(pre), more...) }

func wantTexts(t *testing.T, who string, s *Service, p peer.ID, want ...string) {
	t.Helper()
	if got := texts(t, s, p); !slices.Equal(got, want) {
		t.Fatalf("%s: conversation with %s holds %q, want %q", who, p, got, want)
	}
}

// TestLinkedDevices: a user with two devices gets a message on both; a
// reply from the second device reaches the other user under the identity
// and syncs to the primary; after the second device is removed a new
// message does not reach it, and it can no longer speak for the identity.
func TestLinkedDevices(t *testing.T) {
	_, svcs := chatCluster(t, 4)
	a, b, b2 := svcs[0], svcs[1], svcs[2]
	ctx := context.Background()
	if _, err := a.Send(ctx, b.self, "before the laptop", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send(ctx, a.self, "answer before the laptop", time.Hour); err != nil {
		t.Fatal(err)
	}
	linkDevice(t, b, b2, "laptop", a)
	pre := []string{"before the laptop", "answer before the laptop"}
	waitFor(t, "the laptop gets the history", func() bool { return len(texts(t, b2, a.self)) == 2 })
	wantTexts(t, "laptop history", b2, a.self, "before the laptop", "answer before the laptop")
	hist := messagesOf(t, b2, a.self)
	if hist[0].Direction != DirIn || hist[1].Direction != DirOut || hist[1].Expires.IsZero() || hist[0].ID != messagesOf(t, b, a.self)[0].ID {
		t.Fatalf("history on the laptop = %+v", hist)
	}
	if in, _ := b2.Inbox(); len(in.Conversations) != 1 || in.Conversations[0].Unread != 0 {
		t.Fatalf("the laptop's inbox after the history = %+v", in)
	}

	link, _, err := b.CreateDeviceLink(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b2.CreateDeviceLink(0); err == nil {
		t.Fatal("a linked device made a link of its own")
	}
	// A used link admits nobody else.
	if _, err := svcs[3].JoinDevice(ctx, link, "x"); err != nil {
		t.Fatalf("a fresh link: %v", err)
	}
	if _, err := b.RemoveDevice(ctx, svcs[3].self); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the fourth node unlinked", func() bool { return svcs[3].Identity() == svcs[3].self })
	if _, err := svcs[3].JoinDevice(ctx, link, "again"); err == nil {
		t.Fatal("a used link admitted a device again")
	}
	waitFor(t, "a sees version 3", func() bool { return a.refreshDeviceList(ctx, b.self, 0).Version == 3 })

	// Both devices of b receive.
	m, err := a.Send(ctx, b.self, "hello both", 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Fanout == nil || m.Fanout.Members != 2 || m.Fanout.Delivered != 2 || m.Status != StatusDelivered {
		t.Fatalf("send to two devices: status %s, fanout %+v", m.Status, m.Fanout)
	}
	wantTexts(t, "primary", b, a.self, after(pre, "hello both")...)
	wantTexts(t, "laptop", b2, a.self, after(pre, "hello both")...)

	// The laptop replies: a sees it from b; b gets the sync copy.
	r, err := b2.Send(ctx, a.self, "reply from laptop", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Synced != 1 || r.Status != StatusDelivered {
		t.Fatalf("reply: status %s, synced %d, want delivered and 1", r.Status, r.Synced)
	}
	wantTexts(t, "a", a, b.self, after(pre, "hello both", "reply from laptop")...)
	got := messagesOf(t, a, b.self)[3]
	if got.Direction != DirIn || got.Device != b2.self.String() || got.Peer != b.self.String() {
		t.Fatalf("a stored the reply as %+v", got)
	}
	if in, _ := a.Inbox(); len(in.Conversations) != 1 {
		t.Fatalf("a has %d conversations, want 1 (the laptop is b)", len(in.Conversations))
	}
	wantTexts(t, "primary", b, a.self, after(pre, "hello both", "reply from laptop")...)
	sync := messagesOf(t, b, a.self)[3]
	if sync.Direction != DirOut || sync.Status != StatusSynced || sync.Device != b2.self.String() {
		t.Fatalf("primary stored the sync copy as %+v", sync)
	}

	// The primary writes: a gets it, the laptop gets the sync copy.
	if m, err := b.Send(ctx, a.self, "from the primary", 0); err != nil || m.Synced != 1 {
		t.Fatalf("primary send: %v, synced %d", err, m.Synced)
	}
	wantTexts(t, "laptop", b2, a.self, after(pre, "hello both", "reply from laptop", "from the primary")...)
	wantTexts(t, "a", a, b.self, after(pre, "hello both", "reply from laptop", "from the primary")...)

	// A first contact of the laptop finds b's list in the DHT and shows
	// the message under b; b gets the sync copy.
	c := svcs[3]
	if _, err := b2.Send(ctx, c.self, "first contact", 0); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, "a first contact", c, b.self, "first contact")
	wantTexts(t, "a first contact", c, b2.self)
	waitFor(t, "the primary's sync copy of the first contact", func() bool {
		return slices.Equal(texts(t, b, c.self), []string{"first contact"})
	})

	// Removal.
	l, err := b.RemoveDevice(ctx, b2.self)
	if err != nil {
		t.Fatal(err)
	}
	if l.has(b2.self) || l.Version != 4 {
		t.Fatalf("after removal: version %d, laptop listed %v", l.Version, l.has(b2.self))
	}
	waitFor(t, "the laptop is told", func() bool { return b2.Identity() == b2.self })
	waitFor(t, "a sees the removal", func() bool {
		l := a.refreshDeviceList(ctx, b.self, 0)
		return l != nil && l.Version == 4
	})
	m, err = a.Send(ctx, b.self, "after removal", 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Fanout != nil {
		t.Fatalf("a still fans out to b: %+v", m.Fanout)
	}
	wantTexts(t, "primary", b, a.self, after(pre, "hello both", "reply from laptop", "from the primary", "after removal")...)
	wantTexts(t, "removed laptop", b2, a.self, after(pre, "hello both", "reply from laptop", "from the primary")...)

	// The removed laptop can no longer speak for b.
	rejected := a.stats.rejected.Load()
	dc := &deviceContent{Kind: kindText, Identity: b.self, ListVer: 3, Text: "forged"}
	plain, err := dc.encode()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := newMsgID()
	b2.sealAndDeliver(ctx, a.self, id, time.UnixMilli(time.Now().UnixMilli()), 0, plain)
	if a.stats.rejected.Load() == rejected {
		t.Fatal("a did not reject a message from a removed device")
	}
	wantTexts(t, "a", a, b.self, after(pre, "hello both", "reply from laptop", "from the primary", "after removal")...)
	wantTexts(t, "a", a, b2.self)
}

// TestOfflineDeviceGetsMailbox: a device that is away gets its copy from
// its own mailbox, the other device directly.
func TestOfflineDeviceGetsMailbox(t *testing.T) {
	_, svcs := chatCluster(t, 4)
	a, b, b2 := svcs[0], svcs[1], svcs[2]
	ctx := context.Background()
	linkDevice(t, b, b2, "phone", a)
	b2.Stop() // it serves nothing more; its store and network stay
	m, err := a.Send(ctx, b.self, "while away", 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Fanout == nil || m.Fanout.Delivered != 1 || m.Fanout.Mailbox != 1 || m.Status != StatusMailbox {
		t.Fatalf("send with one device away: status %s, fanout %+v", m.Status, m.Fanout)
	}
	wantTexts(t, "primary", b, a.self, "while away")
	wantTexts(t, "phone before fetching", b2, a.self)
	n, err := b2.FetchMailbox(ctx)
	if err != nil || n != 1 {
		t.Fatalf("fetch = %d, %v", n, err)
	}
	wantTexts(t, "phone", b2, a.self, "while away")
}

// TestDeviceMissesPush: a device away when the list changed takes the
// newer list from the DHT, here when a sync copy claims a newer version.
func TestDeviceMissesPush(t *testing.T) {
	_, svcs := chatCluster(t, 4)
	a, b, b2, b3 := svcs[0], svcs[1], svcs[2], svcs[3]
	ctx := context.Background()
	linkDevice(t, b, b2, "laptop")
	link, _, err := b.CreateDeviceLink(0)
	if err != nil {
		t.Fatal(err)
	}
	// b3 joins while b2 misses the push: b2 still holds version 1.
	b2.stopServingMsgs()
	if _, err := b3.JoinDevice(ctx, link, "phone"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the DHT has version 2", func() bool { return a.refreshDeviceList(ctx, b.self, 0).Version == 2 })
	b2.net.HandleRequest(MsgProtocol, b2.handleMsg, maxEnvelope, 30*time.Second)
	if v := b2.ownList().Version; v != 1 {
		t.Fatalf("the laptop holds version %d before the copy, want 1", v)
	}
	// b3 writes to a: the laptop's copy names version 2, so it pulls it.
	m, err := b3.Send(ctx, a.self, "from the phone", 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Synced != 2 {
		t.Fatalf("the phone's message synced to %d devices, want 2", m.Synced)
	}
	if v := b2.ownList().Version; v != 2 || !b2.ownList().has(b3.self) {
		t.Fatalf("the laptop holds version %d after the copy, want 2 with the phone", v)
	}
	waitFor(t, "the laptop's copy", func() bool { return slices.Equal(texts(t, b2, a.self), []string{"from the phone"}) })
}
