package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/binharness"
	"github.com/tonmesh/tonmesh/testnet"
)

// TestChatCLI: two users chat through the CLI on three daemons, also when
// the recipient was offline at sending time (a third node holds the message
// in its mailbox), and timers delete messages.
func TestChatCLI(t *testing.T) {
	dir := t.TempDir()
	homes := make([]testnet.NodeInfo, 3)
	var boot string
	var daemons []*binharness.Daemon
	for i := range homes {
		home := filepath.Join(dir, "n"+string(rune('1'+i)))
		if res := binharness.Run(t, nil, "init", "--home", home, "--profile", "testnet"); res.ExitCode != 0 {
			t.Fatalf("init: %s", res.Stderr)
		}
		env := []string{"TONMESH_P2P_LISTEN=/ip4/127.0.0.1/tcp/0", "TONMESH_TON_EMU_HOST=true"}
		if boot != "" {
			env = []string{"TONMESH_P2P_LISTEN=/ip4/127.0.0.1/tcp/0", "TONMESH_P2P_BOOTSTRAP=" + boot}
		}
		homes[i] = testnet.NodeInfo{Name: "n" + string(rune('1'+i)), Home: home}
		daemons = append(daemons, binharness.StartDaemon(t, home, env...))
		var id struct {
			PeerID  string   `json:"peer_id"`
			Addrs   []string `json:"addrs"`
			Address string   `json:"address"`
		}
		cli(t, homes[i], &id, "id", "--json")
		homes[i].PeerID, homes[i].Address = id.PeerID, id.Address
		if boot == "" {
			boot = id.Addrs[0]
		}
	}
	alice, bob := homes[1], homes[2]
	waitCLI(t, "bob's prekeys to be findable", func() bool {
		res := binharness.Run(t, nil, "--home", alice.Home, "chat", "send", bob.PeerID, "hello bob", "--json")
		return res.ExitCode == 0
	})
	waitCLI(t, "bob to read alice's message", func() bool {
		return strings.Contains(cli(t, bob, nil, "chat", "read", alice.PeerID), "hello bob")
	})
	// Bob answers to alice's TON address: the wallet → peer directory resolves it.
	waitCLI(t, "alice's wallet address to be resolvable", func() bool {
		return binharness.Run(t, nil, "--home", bob.Home, "chat", "send", alice.Address, "hi alice").ExitCode == 0
	})
	if !strings.Contains(cli(t, alice, nil, "chat", "read", bob.PeerID), "hi alice") {
		t.Fatal("alice did not get bob's reply")
	}

	// Bob goes offline; alice's message waits in mailboxes.
	daemons[2].Stop()
	var sent struct {
		Status  string `json:"status"`
		Holders int    `json:"holders"`
	}
	cli(t, alice, &sent, "chat", "send", bob.PeerID, "while you were away", "--json")
	if sent.Holders < 1 {
		t.Fatalf("message to an offline bob: %+v, want held by mailbox peers", sent)
	}
	daemons[2] = binharness.StartDaemon(t, bob.Home, "TONMESH_P2P_BOOTSTRAP="+boot)
	waitCLI(t, "bob to fetch his mailbox after restart", func() bool {
		return strings.Contains(cli(t, bob, nil, "chat", "read", alice.PeerID), "while you were away")
	})
	var inbox struct {
		Conversations []struct {
			Peer     string `json:"peer"`
			Messages int    `json:"messages"`
		} `json:"conversations"`
	}
	cli(t, bob, &inbox, "chat", "inbox", "--json")
	if len(inbox.Conversations) != 1 || inbox.Conversations[0].Peer != alice.PeerID || inbox.Conversations[0].Messages != 3 {
		t.Fatalf("bob's inbox: %+v", inbox)
	}

	// A timer deletes the message on both ends.
	cli(t, alice, nil, "chat", "send", bob.PeerID, "burn after reading", "--ttl", "2s")
	waitCLI(t, "the 2 s message to be deleted on both ends", func() bool {
		return !strings.Contains(cli(t, alice, nil, "chat", "read", bob.PeerID), "burn after reading") &&
			!strings.Contains(cli(t, bob, nil, "chat", "read", alice.PeerID), "burn after reading")
	})
}

func waitCLI(t *testing.T, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 90*time.Second {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("%s: %.1fs", what, time.Since(start).Seconds())
}
