package chat

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/crashtest"
	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

const (
	chatCrashDirEnv   = "TONMESH_CHAT_CRASH_DIR"
	chatCrashRoundEnv = "TONMESH_CHAT_CRASH_ROUND"
	chatCrashRounds   = 5
)

// TestKillNineKeepsDeliveredMessages runs a child in which a sends to b
// from eight goroutines at once (group commit on both ends) and prints
// every message Send reported delivered, SIGKILLs it after a random number
// of them, and checks after each round, on the same stores: every
// delivered message is stored once at b and in a's conversation, and a's
// session did not go back (a new message is stored by b, not refused as a
// replay of a used message key).
func TestKillNineKeepsDeliveredMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	total := 0
	for round := range chatCrashRounds {
		acked := runChatCrashChild(t, dir, round, 1+rng.IntN(60))
		total += len(acked)

		a, b := openCrashPair(t, dir)
		atB, atA := texts(t, b.svc, a.svc.self), texts(t, a.svc, b.svc.self)
		for _, text := range acked {
			if n := count(atB, text); n != 1 {
				t.Fatalf("round %d: %q was delivered, and b stores it %d times", round, text, n)
			}
			if !slices.Contains(atA, text) {
				t.Fatalf("round %d: %q was delivered, and a's conversation lost it", round, text)
			}
		}
		check := fmt.Sprintf("check-%d", round)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		m, err := a.svc.Send(ctx, b.svc.self, check, 0)
		cancel()
		if err != nil || m.Status != StatusDelivered {
			t.Fatalf("round %d: send after the crash: %+v, %v", round, m, err)
		}
		if !slices.Contains(texts(t, b.svc, a.svc.self), check) {
			t.Fatalf("round %d: b did not store the message sent after the crash (a reused a message key?); b's duplicates: %d",
				round, b.svc.stats.duplicates.Load())
		}
		a.close()
		b.close()
	}
	t.Logf("%d rounds, %d delivered messages checked", chatCrashRounds, total)
}

func count(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

// runChatCrashChild runs the child until killAt deliveries, SIGKILLs it
// and returns every text it reported delivered (also those printed after
// the signal).
func runChatCrashChild(t *testing.T, dir string, round, killAt int) []string {
	t.Helper()
	var acked []string
	env := []string{chatCrashDirEnv + "=" + dir, chatCrashRoundEnv + "=" + strconv.Itoa(round)}
	crashtest.Run(t, "TestChatCrashChild", env, killAt, func(line string) bool {
		text, ok := strings.CutPrefix(line, "delivered ")
		if ok {
			acked = append(acked, text)
		}
		return ok
	})
	if len(acked) == 0 {
		t.Fatalf("round %d: the child delivered nothing", round)
	}
	return acked
}

// TestChatCrashChild is the child side of TestKillNineKeepsDeliveredMessages.
func TestChatCrashChild(t *testing.T) {
	dir := os.Getenv(chatCrashDirEnv)
	if dir == "" {
		t.Skip("child process of TestKillNineKeepsDeliveredMessages")
	}
	round := os.Getenv(chatCrashRoundEnv)
	a, b := openCrashPair(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				text := fmt.Sprintf("r%s-g%d-%04d", round, g, i)
				m, err := a.svc.Send(ctx, b.svc.self, text, 0)
				if err != nil || m.Status != StatusDelivered {
					continue
				}
				mu.Lock()
				fmt.Fprintf(w, "delivered %s\n", text)
				w.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// crashNode is one node of the crash test: store, network, chat.
type crashNode struct {
	store *ledger.Store
	net   *p2p.Network
	svc   *Service
}

// close stops what was opened; it is safe to call again.
func (n *crashNode) close() {
	if n.svc != nil {
		n.svc.Stop()
		n.svc = nil
	}
	if n.net != nil {
		_ = n.net.Close()
		n.net = nil
	}
	if n.store != nil {
		_ = n.store.Close()
		n.store = nil
	}
}

// openCrashPair opens the crash test's nodes on their stores in dir (their
// identities are made on first use and kept there): b listens, a dials it;
// both chat, and b's bundle is in the DHT.
func openCrashPair(t testing.TB, dir string) (a, b *crashNode) {
	t.Helper()
	b = openCrashNode(t, dir, "b", nil)
	a = openCrashNode(t, dir, "a", []string{b.net.Addrs()[0].String()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.net.WaitDHTPeers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for b.svc.PublishPrekeys(ctx) != nil {
		if ctx.Err() != nil {
			t.Fatal("b's prekeys were not published")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return a, b
}

func openCrashNode(t testing.TB, dir, name string, bootstrap []string) *crashNode {
	t.Helper()
	id := crashIdentity(t, filepath.Join(dir, name+".words"))
	n := &crashNode{}
	t.Cleanup(n.close)
	var err error
	if n.store, err = ledger.Open(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
	if n.net, err = p2p.New(context.Background(), id.PeerKey, p2p.Config{ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Bootstrap: bootstrap}); err != nil {
		t.Fatal(err)
	}
	if err := n.net.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n.svc, err = New(n.store, n.net, id, testConfig(), nil); err != nil {
		t.Fatal(err)
	}
	if err := n.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return n
}

// crashIdentity reads the mnemonic in path, writing a new one first if
// there is none.
func crashIdentity(t testing.TB, path string) *identity.Identity {
	t.Helper()
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		words, gerr := identity.NewMnemonic()
		if gerr != nil {
			t.Fatal(gerr)
		}
		raw = []byte(strings.Join(words, " "))
		err = os.WriteFile(path, raw, 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
	id, err := identity.FromMnemonic(strings.Fields(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return id
}
