package chat

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/apiutil"
)

// TestGroupSmall runs the checks of a few members on one four-node cluster.
func TestGroupSmall(t *testing.T) {
	_, s := groupCluster(t, 4)
	t.Run("HTTP", func(t *testing.T) { testGroupHTTP(t, s[0], s[1], s[2]) })
	t.Run("InviteTimerAndForgery", func(t *testing.T) { testGroupInviteTimerForgery(t, s[0], s[1], s[2], s[3]) })
}

func testGroupHTTP(t *testing.T, a, b, c *Service) {
	ctx := context.Background()
	ca, cb, cc := apiClient(t, a), apiClient(t, b), apiClient(t, c)
	events := make(chan Event, 64)
	defer b.OnEvent(func(e Event) {
		select {
		case events <- e:
		default:
		}
	})()
	grp, err := ca.CreateGroup(ctx, "api", []string{b.self.String(), c.self.String()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if grp.Epoch != 1 || len(grp.Members) != 3 || !slices.Equal(grp.Admins, []string{a.self.String()}) || grp.Notified.Delivered != 2 {
		t.Fatalf("created %+v", grp)
	}
	m, err := ca.SendGroup(ctx, grp.ID, "over the group API", 0)
	if err != nil || m.Fanout == nil || m.Fanout.Delivered != 2 || m.Status != StatusDelivered || m.Group != grp.ID {
		t.Fatalf("send = %+v, %v", m, err)
	}
	for e := range events {
		if e.Group == grp.ID && e.Direction == DirIn && e.ID == m.ID && e.Peer == a.self.String() {
			break
		}
	}
	l, err := cb.Groups(ctx)
	if err != nil || len(l.Groups) != 1 || l.Groups[0].Unread != 1 || l.Groups[0].Name != "api" {
		t.Fatalf("b's groups = %+v, %v", l, err)
	}
	page, err := cb.GroupMessages(ctx, grp.ID, 0)
	if err != nil || len(page.Messages) != 1 || page.Messages[0].Text != "over the group API" || page.Messages[0].Peer != a.self.String() {
		t.Fatalf("b's messages = %+v, %v", page, err)
	}
	if g, err := cb.Group(ctx, grp.ID); err != nil || g.Unread != 0 {
		t.Fatalf("b's group after reading = %+v, %v", g, err)
	}
	if _, err := cb.SendGroup(ctx, grp.ID, "reply", 0); err != nil {
		t.Fatal(err)
	}
	if page, err := cc.GroupMessages(ctx, grp.ID, 0); err != nil || len(page.Messages) != 2 {
		t.Fatalf("c's messages = %+v, %v", page, err)
	}
	if g, err := ca.RenameGroup(ctx, grp.ID, "renamed"); err != nil || g.Name != "renamed" || g.Epoch != 2 {
		t.Fatalf("rename = %+v, %v", g, err)
	}
	if g, err := cc.Group(ctx, grp.ID); err != nil || g.Name != "renamed" {
		t.Fatalf("c's view after rename = %+v, %v", g, err)
	}
	unknown := GroupID{1, 2, 3}.String()
	for name, tc := range map[string]struct {
		call func() error
		want int
	}{
		"bad id":         {func() error { _, err := ca.Group(ctx, "xyz"); return err }, http.StatusBadRequest},
		"unknown group":  {func() error { _, err := ca.Group(ctx, unknown); return err }, http.StatusNotFound},
		"send unknown":   {func() error { _, err := ca.SendGroup(ctx, unknown, "x", 0); return err }, http.StatusNotFound},
		"empty text":     {func() error { _, err := ca.SendGroup(ctx, grp.ID, "", 0); return err }, http.StatusBadRequest},
		"bad member":     {func() error { _, err := ca.CreateGroup(ctx, "x", []string{"nobody"}, 0); return err }, http.StatusBadRequest},
		"no members":     {func() error { _, err := ca.InviteToGroup(ctx, grp.ID, nil, false); return err }, http.StatusBadRequest},
		"remove non-mem": {func() error { _, err := ca.RemoveFromGroup(ctx, grp.ID, []string{a.self.String()}); return err }, http.StatusBadRequest},
		"long name":      {func() error { _, err := ca.RenameGroup(ctx, grp.ID, string(make([]byte, 200))); return err }, http.StatusBadRequest},
		"member renames": {func() error { _, err := cb.RenameGroup(ctx, grp.ID, "mine"); return err }, http.StatusForbidden},
		"member invites": {func() error { _, err := cb.InviteToGroup(ctx, grp.ID, []string{a.self.String()}, false); return err }, http.StatusForbidden},
		"only admin":     {func() error { _, err := ca.LeaveGroup(ctx, grp.ID); return err }, http.StatusBadRequest},
		"bad timer":      {func() error { _, err := ca.SetGroupTimer(ctx, grp.ID, 1500*time.Millisecond); return err }, http.StatusBadRequest},
	} {
		if err := tc.call(); !apiutil.IsStatus(err, tc.want) {
			t.Errorf("%s: %v, want %d", name, err, tc.want)
		}
	}
	if g, err := cc.LeaveGroup(ctx, grp.ID); err != nil || !g.Left {
		t.Fatalf("leave = %+v, %v", g, err)
	}
	if _, err := cc.SendGroup(ctx, grp.ID, "gone", 0); !apiutil.IsStatus(err, http.StatusForbidden) {
		t.Fatalf("send after leaving: %v, want 403", err)
	}
	if g, err := cb.Group(ctx, grp.ID); err != nil || len(g.Members) != 2 {
		t.Fatalf("b's view after c left = %+v, %v", g, err)
	}
}

func testGroupInviteTimerForgery(t *testing.T, a, b, c, d *Service) {
	ctx := context.Background()
	grp, err := a.CreateGroup(ctx, "timed", []peer.ID{b.self}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := ParseGroupID(grp.ID)
	if _, err := a.SendGroup(ctx, g, "before c", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.InviteToGroup(ctx, g, []peer.ID{c.self}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SendGroup(ctx, g, "after c", time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := groupTexts(t, c, g); !slices.Equal(got, []string{"after c"}) {
		t.Fatalf("the new member has %q, want only what came after the invite", got)
	}
	// The group's timer deletes "before c" everywhere; "after c" had its own.
	waitFor(t, "the group timer", func() bool {
		return !slices.Contains(groupTexts(t, a, g), "before c") && !slices.Contains(groupTexts(t, b, g), "before c")
	})
	if got := groupTexts(t, b, g); !slices.Equal(got, []string{"after c"}) {
		t.Fatalf("b has %q after the timer", got)
	}

	// A member who is no admin signs a state that adds d: the others refuse it.
	_, cur, _, err := b.loadGroup(g)
	if err != nil {
		t.Fatal(err)
	}
	forged := cur.next()
	forged.Members = sortPeers(append(forged.Members, d.self))
	forged.Signer = b.self
	raw, err := forged.sign(b.id.PeerKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.sendCtl(ctx, a.self, (&groupCtl{Type: ctlState, State: raw}).encode()); err != nil {
		t.Fatal(err)
	}
	if info, _ := a.GroupInfo(g); info.Epoch != cur.Epoch || slices.Contains(info.Members, d.self.String()) {
		t.Fatalf("a accepted a state signed by a plain member: %+v", info)
	}
	// A state with a bad signature is refused too.
	raw[len(raw)-1] ^= 1
	if _, err := b.sendCtl(ctx, c.self, (&groupCtl{Type: ctlState, State: raw}).encode()); err != nil {
		t.Fatal(err)
	}
	if info, _ := c.GroupInfo(g); info.Epoch != cur.Epoch {
		t.Fatalf("c accepted a forged signature: %+v", info)
	}
	// A group message from someone who is no member is refused.
	_, err = d.SendGroup(ctx, g, "intruder", 0)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("a non-member sent to the group: %v", err)
	}
}
