package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
)

// groupCluster starts n bare peers with a chat service each; the first can
// find every other's bundle.
func groupCluster(t *testing.T, n int) ([]*peers.Peer, []*Service) {
	t.Helper()
	c := peers.Start(t, n)
	svcs := make([]*Service, n)
	for i, p := range c {
		svcs[i] = startChat(t, p)
	}
	for _, b := range svcs[1:] {
		waitFor(t, "bundle of "+b.self.String(), func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := svcs[0].fetchBundle(ctx, b.self); err == nil {
				return true
			}
			// Its first publication may have reached too few peers while
			// the routing tables filled: publish again.
			_ = b.PublishPrekeys(ctx)
			return false
		})
	}
	return c, svcs
}

// groupTexts returns the texts of group g at s, without marking them read.
func groupTexts(t *testing.T, s *Service, g GroupID) []string {
	t.Helper()
	var out []string
	err := s.space.Iterate(gmsgPrefix(g), func(_, v []byte) error {
		var m Message
		if err := json.Unmarshal(v, &m); err != nil {
			return err
		}
		out = append(out, m.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func hasAll(have []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func ids(svcs []*Service) []peer.ID {
	var out []peer.ID
	for _, s := range svcs {
		out = append(out, s.self)
	}
	return out
}

// storeContains reports whether needle is in any file under dir.
func storeContains(t *testing.T, dir string, needle []byte) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = found || bytes.Contains(b, needle)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// heldGroupEnvelopes returns the group envelopes s holds in mailboxes for
// rcpt, opening the sealed items with rcpt's key (heldEnvelopes).
func heldGroupEnvelopes(t *testing.T, s, rcpt *Service) []*envelope {
	t.Helper()
	var out []*envelope
	for _, env := range heldEnvelopes(t, s, rcpt) {
		if env.Group {
			out = append(out, env)
		}
	}
	return out
}

// TestGroupOf50 runs a 50-member group, one identity per node on 50
// in-process nodes, with members offline at creation and after a removal.
// Under the race detector the group has 24 members (same paths; the
// start of 50 hosts alone takes over a minute there).
func TestGroupOf50(t *testing.T) {
	n := 50
	if raceEnabled {
		n = 24
	}
	start := time.Now()
	stage := func(what string) { t.Logf("%6.1fs %s", time.Since(start).Seconds(), what) }
	c, s := groupCluster(t, n)
	stage("nodes up")
	ctx := context.Background()
	admin := s[0]

	// Three members are offline when the group is made.
	offline := []int{n - 3, n - 2, n - 1}
	for _, i := range offline {
		s[i].Stop()
		c[i].Stop()
	}
	grp, err := admin.CreateGroup(ctx, "fifty", ids(s[1:]), 0)
	if err != nil {
		t.Fatal(err)
	}
	if grp.Notified.Members != n-1 || grp.Notified.Delivered != n-1-len(offline) || grp.Notified.Mailbox != len(offline) {
		t.Fatalf("creation notified %+v, want %d delivered and %d in mailboxes", grp.Notified, n-1-len(offline), len(offline))
	}
	stage("group created")
	g, err := ParseGroupID(grp.ID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := admin.SendGroup(ctx, g, "hello fifty", 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Fanout.Delivered != n-1-len(offline) || m.Fanout.Mailbox != len(offline) || m.Status != StatusMailbox {
		t.Fatalf("group send = %+v (%+v)", m, m.Fanout)
	}
	if _, err := s[5].SendGroup(ctx, g, "from five", 0); err != nil {
		t.Fatal(err)
	}
	// Direct copies are acknowledged once stored: no waiting.
	for i := 1; i < n-3; i++ {
		want := []string{"hello fifty", "from five"}
		if i == 5 {
			want = []string{"from five", "hello fifty"}
		}
		if got := groupTexts(t, s[i], g); !hasAll(got, want...) {
			t.Fatalf("member %d has %q", i, got)
		}
	}

	stage("two messages sent")
	// The offline members come back and fetch the state, the keys and the
	// messages from their mailboxes, in whatever order.
	for _, i := range offline {
		c[i].Restart(t)
		s[i] = startChat(t, c[i])
	}
	for _, i := range offline {
		waitFor(t, "a returning member to read the group", func() bool {
			if hasAll(groupTexts(t, s[i], g), "hello fifty", "from five") {
				return true
			}
			_, _ = s[i].FetchMailbox(ctx)
			return false
		})
	}

	stage("offline members caught up")
	// Removal: a new epoch; the removed member gets no key for it.
	removed := s[10]
	if _, err := s[7].RemoveFromGroup(ctx, g, []peer.ID{removed.self}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a non-admin removed a member: %v", err)
	}
	if _, err := admin.RemoveFromGroup(ctx, g, []peer.ID{removed.self}); err != nil {
		t.Fatal(err)
	}
	info, err := removed.GroupInfo(g)
	if err != nil || !info.Left {
		t.Fatalf("removed member's view = %+v, %v; want left", info, err)
	}
	late := 20 // offline during the post-removal messages
	s[late].Stop()
	c[late].Stop()
	const secret = "after the removal: the vault code is 4711"
	if _, err := admin.SendGroup(ctx, g, secret, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s[7].SendGroup(ctx, g, "seven after removal", 0); err != nil {
		t.Fatal(err)
	}
	for i, sv := range s {
		if i == 10 || i == late {
			continue
		}
		if got := groupTexts(t, sv, g); !hasAll(got, secret, "seven after removal") {
			t.Fatalf("member %d lacks the post-removal messages: %q", i, got)
		}
	}
	if got := groupTexts(t, removed, g); slices.Contains(got, secret) {
		t.Fatal("the removed member has the post-removal message")
	}
	if storeContains(t, c[10].Store.Dir(), []byte(secret)) || storeContains(t, c[10].Store.Dir(), []byte("vault code")) {
		t.Fatal("the post-removal plaintext is in the removed member's store files")
	}
	// The copies left for the late member are real ciphertext: the removed
	// member's every stored chain fails on them.
	var post []*envelope
	for _, sv := range s {
		if sv != s[late] {
			post = append(post, heldGroupEnvelopes(t, sv, s[late])...)
		}
	}
	if len(post) == 0 {
		t.Fatal("no mailbox copy for the late member")
	}
	tried := 0
	for _, env := range post {
		body, err := decodeGroupBody(env.Body)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := removed.loadSenderKey(g, body.Epoch, env.Sender); ok {
			t.Fatalf("the removed member has %s's key of epoch %d", env.Sender, body.Epoch)
		}
		err = removed.space.Iterate([]byte("gk/"), func(_, v []byte) error {
			var k senderKey
			if err := json.Unmarshal(v, &k); err != nil {
				return err
			}
			for i := uint32(0); i < 8; i++ {
				// Every chain, at indices around the message's, without
				// the signing key check.
				trial := k.clone()
				trial.Index, trial.Skipped = 0, nil
				mk, err := trial.keyFor(body.Index + i)
				if err != nil {
					continue
				}
				aead, nonce := groupAEAD(mk)
				if _, err := aead.Open(nil, nonce, body.Sealed, body.bound(groupADDomain, env.Sender, env.ID, env.Sent, env.TTL)); err == nil {
					return errors.New("an old chain opened a post-removal message")
				}
			}
			if _, err := openGroup(k.clone(), env, body); err == nil {
				return errors.New("an old chain opened a post-removal message")
			}
			tried++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if tried == 0 {
		t.Fatal("the removed member has no stored chain to try")
	}

	stage("removal checked")
	c[late].Restart(t)
	s[late] = startChat(t, c[late])
	waitFor(t, "the late member to read the post-removal messages", func() bool {
		if hasAll(groupTexts(t, s[late], g), secret, "seven after removal") {
			return true
		}
		_, _ = s[late].FetchMailbox(ctx)
		return false
	})
	stage("late member caught up")
	// A copy delivered again is a duplicate.
	before := len(groupTexts(t, s[late], g))
	for _, env := range post {
		raw := env.encode()
		again, _ := decodeEnvelope(raw)
		if st, err := s[late].receive(again, time.Now()); st != statusDuplicate {
			t.Fatalf("redelivered copy: status %d, %v; want duplicate", st, err)
		}
	}
	if after := len(groupTexts(t, s[late], g)); after != before {
		t.Fatalf("redelivery changed the group from %d to %d messages", before, after)
	}

	// Leave, rename, and the checks of who may change the group.
	if _, err := s[3].LeaveGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if _, err := s[4].RenameGroup(ctx, g, "not yours"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a member renamed the group: %v", err)
	}
	if _, err := admin.RenameGroup(ctx, g, "renamed"); err != nil {
		t.Fatal(err)
	}
	info, err = s[n-4].GroupInfo(g)
	if err != nil || info.Name != "renamed" || len(info.Members) != n-2 || slices.Contains(info.Members, s[3].self.String()) {
		t.Fatalf("member n-4's view = %+v, %v", info, err)
	}
	if _, err := s[3].SendGroup(ctx, g, "still here?", 0); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a member who left sent to the group: %v", err)
	}
}
