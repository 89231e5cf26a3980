package e2e

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/tonmesh/tonmesh/internal/binharness"
	"github.com/tonmesh/tonmesh/testnet"
)

// cli runs tonmesh against node n and decodes --json output into out.
func cli(t *testing.T, n testnet.NodeInfo, out any, args ...string) string {
	t.Helper()
	res := binharness.Run(t, nil, append([]string{"--home", n.Home}, args...)...)
	if res.ExitCode != 0 {
		t.Fatalf("%s: tonmesh %s: exit %d\n%s", n.Name, strings.Join(args, " "), res.ExitCode, res.Stderr)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(res.Stdout), out); err != nil {
			t.Fatalf("%s: tonmesh %s: %v\n%s", n.Name, strings.Join(args, " "), err, res.Stdout)
		}
	}
	return res.Stdout
}

type balance struct {
	Address string `json:"address"`
	Status  string `json:"status"`
	Balance struct {
		Nano string `json:"nano"`
		TON  string `json:"ton"`
	} `json:"balance"`
}

// TestTestnetLedger: on a fresh testnet every node has a balance; a transfer
// and a payment channel's whole life work from the CLI; every node sees the
// same balances; the journal is anchored and entries verify.
func TestTestnetLedger(t *testing.T) {
	dir := t.TempDir()
	cmd, m, out := startTestnet(t, dir, "3")
	a, b, host := m.Nodes[1], m.Nodes[2], m.Nodes[0]
	for i, n := range m.Nodes {
		var bal balance
		cli(t, n, &bal, "ledger", "balance", "--json")
		// node1, the market's registry, may already have paid to deploy the
		// market's collection (0.2 TON and fees).
		got, _ := strconv.ParseFloat(bal.Balance.TON, 64)
		if (bal.Balance.TON != "100" && (i != 0 || got < 99.7 || got > 100)) || bal.Address != n.Address {
			t.Fatalf("%s starts with %+v, want 100 TON at %s", n.Name, bal, n.Address)
		}
	}

	cli(t, a, nil, "ledger", "send", b.Address, "2.5", "--comment", "e2e")
	var want balance
	cli(t, b, &want, "ledger", "balance", "--json")
	for _, n := range m.Nodes {
		var got balance
		cli(t, n, &got, "ledger", "balance", b.Address, "--json")
		if got.Balance.Nano != want.Balance.Nano {
			t.Errorf("%s sees %s nanoTON at %s, %s sees %s", n.Name, got.Balance.Nano, b.Name, b.Name, want.Balance.Nano)
		}
	}
	if !strings.Contains(cli(t, b, nil, "ledger", "history"), "e2e") {
		t.Error("the receiver's history lacks the transfer's comment")
	}

	opened := cli(t, a, nil, "ledger", "channel", "open", b.PeerID, "5", "--timeout", "1h")
	var chans []struct {
		ID, Role, Status string
		Deposited        struct{ Nano string }
		Paid             struct{ Nano string }
		Redeemed         struct{ Nano string }
	}
	cli(t, a, &chans, "ledger", "channels", "--json")
	if len(chans) != 1 || !strings.Contains(opened, chans[0].ID) {
		t.Fatalf("channels after open: %+v (open said %q)", chans, opened)
	}
	id := chans[0].ID
	for range 3 {
		cli(t, a, nil, "ledger", "channel", "pay", id, "0.25")
	}
	if out := cli(t, a, nil, "ledger", "channel", "topup", id, "1"); !strings.Contains(out, "6 TON deposited") {
		t.Errorf("topup said %q, want the new deposit of 6 TON", out)
	}
	cli(t, b, nil, "ledger", "channel", "redeem", id)
	cli(t, a, nil, "ledger", "channel", "close", id)
	cli(t, b, &chans, "ledger", "channels", "--json")
	if len(chans) != 1 || chans[0].Role != "payee" || chans[0].Paid.Nano != "750000000" || chans[0].Redeemed.Nano != "750000000" || chans[0].Status != "closing" ||
		chans[0].Deposited.Nano != "6000000000" {
		t.Fatalf("payee's view: %+v", chans)
	}

	cli(t, a, nil, "ledger", "anchors", "--now")
	var anchors []struct{ Status string }
	cli(t, a, &anchors, "ledger", "anchors", "--json")
	if len(anchors) == 0 || anchors[len(anchors)-1].Status != "confirmed" {
		t.Fatalf("anchors: %+v", anchors)
	}
	var v struct{ Valid bool }
	cli(t, a, &v, "ledger", "verify", "1", "--json")
	if !v.Valid {
		t.Fatal("entry 1 did not verify")
	}
	res := binharness.Run(t, nil, "--home", host.Home, "ledger", "faucet", "1000000")
	requireCleanFailure(t, "faucet over the limit", res, "faucet")
	stopTestnet(t, cmd, dir, out)
}
