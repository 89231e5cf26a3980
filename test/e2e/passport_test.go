package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tonmesh/tonmesh/internal/binharness"
	"github.com/tonmesh/tonmesh/testnet"
)

// TestPassportRestoreCLI: a user's documents survive the loss of the user's
// machine. The vault is written from one home; that home is stopped and
// thrown away; a new home made from the same 24 words (init
// --mnemonic-file) restores it from the network, with identical bytes.
func TestPassportRestoreCLI(t *testing.T) {
	dir := t.TempDir()
	// Shards 2 of 3, so that the three holders here suffice.
	vaultEnv := []string{"TONMESH_VAULT_SHARDS_K=2", "TONMESH_VAULT_SHARDS_N=3"}
	var boot string
	start := func(name string, env ...string) (testnet.NodeInfo, *binharness.Daemon) {
		t.Helper()
		home := filepath.Join(dir, name)
		if _, err := os.Stat(home); err != nil {
			if res := binharness.Run(t, nil, "init", "--home", home, "--profile", "testnet"); res.ExitCode != 0 {
				t.Fatalf("init %s: %s", name, res.Stderr)
			}
		}
		env = append(env, "TONMESH_P2P_LISTEN=/ip4/127.0.0.1/tcp/0")
		if boot == "" {
			env = append(env, "TONMESH_TON_EMU_HOST=true")
		} else {
			env = append(env, "TONMESH_P2P_BOOTSTRAP="+boot)
		}
		n := testnet.NodeInfo{Name: name, Home: home}
		d := binharness.StartDaemon(t, home, env...)
		var id struct {
			PeerID string   `json:"peer_id"`
			Addrs  []string `json:"addrs"`
		}
		cli(t, n, &id, "id", "--json")
		n.PeerID = id.PeerID
		if boot == "" {
			boot = id.Addrs[0]
		}
		return n, d
	}
	for i := range 4 { // the chain's host and three holders
		start("holder" + strconv.Itoa(i+1))
	}
	owner, ownerDaemon := start("owner", vaultEnv...)

	scan := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("restore-me "), 20000)...)
	scanPath := filepath.Join(dir, "card.jpg")
	if err := os.WriteFile(scanPath, scan, 0o600); err != nil {
		t.Fatal(err)
	}
	waitCLI(t, "three holders for the owner's shards", func() bool {
		return binharness.Run(t, nil, "--home", owner.Home, "passport", "add", "identity_card",
			"--field", "document_no=IC-77", "--file", "front_side="+scanPath, "--file", "reverse_side="+scanPath).ExitCode == 0
	})

	// The machine is lost; the words are not.
	words, err := os.ReadFile(filepath.Join(owner.Home, "keystore", "mnemonic"))
	if err != nil {
		t.Fatal(err)
	}
	ownerDaemon.Stop()
	wordsFile := filepath.Join(dir, "words.txt")
	if err := os.WriteFile(wordsFile, words, 0o600); err != nil {
		t.Fatal(err)
	}
	newHome := filepath.Join(dir, "owner-again")
	if res := binharness.Run(t, nil, "init", "--home", newHome, "--profile", "testnet", "--mnemonic-file", wordsFile); res.ExitCode != 0 {
		t.Fatalf("init from the words: %s", res.Stderr)
	}
	if err := os.RemoveAll(owner.Home); err != nil {
		t.Fatal(err)
	}
	again, _ := start("owner-again", vaultEnv...)
	if again.PeerID != owner.PeerID {
		t.Fatalf("the same words gave peer %s, was %s", again.PeerID, owner.PeerID)
	}
	waitCLI(t, "the manifest to be found in the DHT", func() bool {
		return binharness.Run(t, nil, "--home", again.Home, "passport", "restore", "--json").ExitCode == 0
	})
	var list []struct {
		Type string `json:"type"`
	}
	cli(t, again, &list, "passport", "list", "--json")
	if len(list) != 1 || list[0].Type != "identity_card" {
		t.Fatalf("restored vault lists %+v, want the identity_card", list)
	}
	var card struct {
		Data      map[string]string `json:"data"`
		FrontSide struct {
			Bytes []byte `json:"bytes"`
		} `json:"front_side"`
		ReverseSide struct {
			Bytes []byte `json:"bytes"`
		} `json:"reverse_side"`
	}
	cli(t, again, &card, "passport", "show", "identity_card", "--json")
	if card.Data["document_no"] != "IC-77" || !bytes.Equal(card.FrontSide.Bytes, scan) || !bytes.Equal(card.ReverseSide.Bytes, scan) {
		t.Fatalf("restored identity_card: %v, scans of %d and %d bytes (want %d, identical)",
			card.Data, len(card.FrontSide.Bytes), len(card.ReverseSide.Bytes), len(scan))
	}
}
