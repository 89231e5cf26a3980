package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/config"
	"github.com/tonmesh/tonmesh/internal/harness"
	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/node"
)

func get(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func TestAPI(t *testing.T) {
	c := harness.Start(t, 3, harness.EditConfig(func(i int, c *config.Config) {
		c.Chat.RefusePlainDeposits = i == 1
	}))
	n := c.Nodes[1]
	base := n.APIURL()
	token, err := c.Homes[1].Token()
	if err != nil {
		t.Fatal(err)
	}

	code, body := get(t, base+"/healthz", "")
	var h node.Health
	if code != 200 || json.Unmarshal(body, &h) != nil || h.Status != "ok" || h.PeerID != n.Identity().PeerID().String() {
		t.Fatalf("healthz = %d %s", code, body)
	}

	for _, tok := range []string{"", "wrong"} {
		code, body = get(t, base+"/api/v1/id", tok)
		var eb node.ErrorBody
		if code != http.StatusUnauthorized || json.Unmarshal(body, &eb) != nil || !strings.Contains(eb.Error.Message, "api.token") {
			t.Fatalf("token %q: %d %s, want 401 naming api.token", tok, code, body)
		}
	}

	code, body = get(t, base+"/api/v1/nope", token)
	var eb node.ErrorBody
	if code != http.StatusNotFound || json.Unmarshal(body, &eb) != nil || eb.Error.Message == "" {
		t.Fatalf("unknown route = %d %s, want 404 with a JSON message", code, body)
	}

	cl := c.Client(t, 1)
	id, err := cl.ID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if id.PeerID != n.Identity().PeerID().String() || id.WalletVersion != "v5r1" || !strings.HasPrefix(id.AddressRaw, "0:") || len(id.Addrs) == 0 {
		t.Fatalf("id = %+v", id)
	}
	peers, err := cl.Peers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) == 0 {
		t.Fatal("node 2 lists no peers")
	}
	seen := map[string]bool{}
	for _, p := range peers {
		seen[p.PeerID] = true
	}
	if !seen[c.Nodes[0].Identity().PeerID().String()] {
		t.Fatalf("node 2's peers %v miss its bootstrap peer", peers)
	}

	code, body = get(t, base+"/metrics", token)
	for _, m := range []string{"tonmesh_node_info", "tonmesh_peers_connected", "tonmesh_store_commits_total", "tonmesh_api_request_duration_seconds", "tonmesh_p2p_connected_peers", "libp2p_rcmgr_limit", "go_goroutines",
		"tonmesh_vault_bytes_held", "tonmesh_compute_worker_jobs_total", "tonmesh_market_bids_accepted_total",
		"tonmesh_chat_mailbox_bytes_held", "tonmesh_chat_mailbox_refused_total",
		"\ntonmesh_chat_mailbox_refuses_plain_deposits 1\n"} { // chat.refuse_plain_deposits reached the holder
		if !strings.Contains(string(body), m) {
			t.Errorf("/metrics (%d) lacks %s", code, m)
		}
	}
	if code, _ = get(t, base+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without token = %d, want 401", code)
	}
}

func TestRestartFindsPeersFromAddressBook(t *testing.T) {
	c := harness.Start(t, 3)
	h := c.Homes[2]
	if err := c.Nodes[2].Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg, err := h.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.P2P.Bootstrap = nil // only the address book can lead it back
	n, err := node.New(cfg, node.WithHome(h))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Network().WaitDHTPeers(ctx, 1); err != nil {
		t.Fatalf("restarted node without bootstrap peers found nobody: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	h := node.Home(dir + "/n")
	res, err := node.Init(h, node.InitOptions{Profile: config.ProfileTestnet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := node.Init(h, node.InitOptions{Profile: config.ProfileTestnet}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second init = %v, want a refusal", err)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := res.Config
	cfg.API.Listen = busy.Addr().String()
	n, err := node.New(cfg, node.WithHome(h))
	if err != nil {
		t.Fatal(err)
	}
	err = n.Start(context.Background())
	n.Stop(context.Background())
	if err == nil || !strings.Contains(err.Error(), "api.listen") {
		t.Fatalf("start on a busy API port = %v, want an error naming api.listen", err)
	}

	cfg.API.Listen = "127.0.0.1:0"
	first, err := node.New(cfg, node.WithHome(h))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop(context.Background())
	if _, err := node.New(cfg, node.WithHome(h)); !errors.Is(err, ledger.ErrLocked) {
		t.Fatalf("second node on one home = %v, want ErrLocked", err)
	}

	if err := node.Home(dir + "/missing").Check(); !errors.Is(err, node.ErrNoHome) || !strings.Contains(err.Error(), "tonmesh init") {
		t.Fatalf("missing home = %v", err)
	}
}
