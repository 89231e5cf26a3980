package chat

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/ledger"
)

// testConfig is fast enough for tests: the mailbox is still fetched at
// start; timers are swept every 100 ms.
func testConfig() Config {
	return Config{SweepInterval: 100 * time.Millisecond, MailboxPoll: time.Hour, DirectTimeout: 3 * time.Second}
}

// startChat runs a chat service on p until the test ends (or it is
// stopped) and waits until its bundle is in the DHT.
func startChat(t *testing.T, p *peers.Peer) *Service {
	t.Helper()
	s, err := New(p.Store, p.Net, p.Identity, testConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if err := s.PublishPrekeys(ctx); err == nil {
			return s
		} else if ctx.Err() != nil {
			t.Fatalf("publish prekeys of %s: %v", s.self, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// chatCluster starts n bare peers with a chat service each, every one
// able to find every other's bundle.
func chatCluster(t *testing.T, n int) ([]*peers.Peer, []*Service) {
	t.Helper()
	c := peers.Start(t, n)
	svcs := make([]*Service, n)
	for i, p := range c {
		svcs[i] = startChat(t, p)
	}
	for _, a := range svcs {
		for _, b := range svcs {
			if a != b {
				waitFor(t, "bundle of "+b.self.String(), func() bool {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					_, err := a.fetchBundle(ctx, b.self)
					return err == nil
				})
			}
		}
	}
	return c, svcs
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// texts returns the texts of the conversation with p, without marking it read.
func texts(t *testing.T, s *Service, p peer.ID) []string {
	t.Helper()
	var out []string
	err := s.space.Iterate(msgPrefix(p), func(k, v []byte) error {
		m, err := s.loadMessage(p, binaryTail(k))
		if errors.Is(err, ledger.ErrNotFound) {
			return nil // the timer sweeper deleted it while we iterated
		}
		if err != nil {
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

func binaryTail(k []byte) uint64 {
	var v uint64
	for _, b := range k[len(k)-8:] {
		v = v<<8 | uint64(b)
	}
	return v
}

// heldCount counts the items s holds for others.
func heldCount(t *testing.T, s *Service) int {
	t.Helper()
	n := 0
	if err := s.mbox.Iterate([]byte("i/"), func(_, _ []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// assertNoPlaintext fails if needle appears in s's mailbox space or in any
// file of the store directory dir.
func assertNoPlaintext(t *testing.T, s *Service, dir string, needle []byte) {
	t.Helper()
	err := s.mbox.Iterate(nil, func(k, v []byte) error {
		if bytes.Contains(k, needle) || bytes.Contains(v, needle) {
			return errors.New("plaintext found in the mailbox space")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, needle) {
			t.Errorf("plaintext found in the holder's store file %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// openTestSpace gives s a fresh store (spaces and holder state) without a
// network, for tests of the holder alone.
func openTestSpace(t *testing.T, s *Service) *ledger.Store {
	t.Helper()
	st, err := ledger.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if s.space, err = st.Space(SpaceName); err != nil {
		t.Fatal(err)
	}
	if s.mbox, err = st.Space(MailboxSpaceName); err != nil {
		t.Fatal(err)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.loadHolderUsage(); err != nil {
		t.Fatal(err)
	}
	return st
}
