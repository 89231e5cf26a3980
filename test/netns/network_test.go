package netns

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/binharness"
)

// waitFor polls cond (every 250 ms) until it holds or the deadline passes;
// it never sleeps a fixed time for an event. last describes the state seen
// last, for the failure message.
func waitFor(t *testing.T, ctx context.Context, what string, within time.Duration, cond func() (bool, string)) {
	t.Helper()
	if ok, last := poll(ctx, within, cond); !ok {
		t.Fatalf("%s: not within %s; last seen: %s", what, within, last)
	}
}

// stepper logs how long each step of a subtest took, so a slow run shows
// where its time went.
func stepper(t *testing.T) func(what string) {
	start := time.Now()
	return func(what string) { t.Logf("%6.1fs %s", time.Since(start).Seconds(), what) }
}

func poll(ctx context.Context, within time.Duration, cond func() (bool, string)) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	var last string
	for {
		var ok bool
		if ok, last = cond(); ok {
			return true, last
		}
		select {
		case <-ctx.Done():
			return false, last
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// startNetwork builds the lab (5 public hosts, 2 behind their own NATs),
// starts a daemon on each and waits until the network is ready: peers
// connected, NATed nodes holding relay addresses, every wallet funded.
func startNetwork(t *testing.T) *Cluster {
	t.Helper()
	if why := Available(); why != "" {
		t.Skip("network namespace tests skipped: " + why)
	}
	bin := binharness.Binary(t)
	ctx := t.Context()
	lab, err := New(ctx, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Errorf("remove the lab: %v", err)
		}
	})
	c, err := NewCluster(lab, bin, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range c.Nodes {
				t.Logf("--- %s (%s, %s) log tail:\n%s", n.Name, n.Addr, n.PeerID, n.LogTail(25))
			}
		}
		c.Stop()
	})
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(ctx, "100"); err != nil {
		t.Fatal(err)
	}
	// The API is reachable from here too, through the node's namespace.
	for _, n := range c.Nodes {
		if h, err := n.Health(ctx, HTTPClient(n.Host)); err != nil || h.PeerID != n.PeerID {
			t.Fatalf("%s: /healthz through its namespace: %+v, %v", n.Name, h, err)
		}
	}
	return c
}

func isCircuit(a string) bool { return strings.Contains(a, "/p2p-circuit") }

func idAddrs(ctx context.Context, c *Cluster, n *Node) ([]string, error) {
	var id struct {
		Addrs []string `json:"addrs"`
	}
	_, err := c.CLI(ctx, n, &id, "id", "--json")
	return id.Addrs, err
}

// connAddrs returns the remote addresses of from's open connections to to.
func connAddrs(ctx context.Context, c *Cluster, from, to *Node) ([]string, error) {
	var peers []struct {
		PeerID string   `json:"peer_id"`
		Addrs  []string `json:"addrs"`
	}
	if _, err := c.CLI(ctx, from, &peers, "peers", "--json"); err != nil {
		return nil, err
	}
	for _, p := range peers {
		if p.PeerID == to.PeerID {
			return p.Addrs, nil
		}
	}
	return nil, nil
}

// TestNetwork runs tonmesh on seven hosts in network namespaces — n1…n5 on
// one bridge with private addresses, m1 and m2 each behind its own NAT —
// and checks what only real addresses and failing links show: a NATed node
// is reached through a relay, and chat, auctions, the vault and inference
// come through a partition.
func TestNetwork(t *testing.T) {
	c := startNetwork(t)
	for _, st := range []struct {
		name  string
		check func(*testing.T, *Cluster)
	}{
		{"relay", checkRelay},
		{"chat", checkChatPartition},
		{"auction", checkAuctionPartition},
		{"vault", checkVaultPartition},
		{"inference", checkInferenceFailover},
	} {
		t.Run(st.name, func(t *testing.T) {
			waitChain(t, c)
			st.check(t, c)
		})
	}
}

// waitChain waits until every node reads its balance from the chain: the
// previous subtest's partition or link failure has healed, and every
// node's connection to the chain host is back.
func waitChain(t *testing.T, c *Cluster) {
	t.Helper()
	start := time.Now()
	for _, n := range c.Nodes {
		waitFor(t, t.Context(), n.Name+" reaches the chain", time.Minute, func() (bool, string) {
			out, err := c.CLI(t.Context(), n, nil, "ledger", "balance", "--json")
			return err == nil, fmt.Sprint(out, err)
		})
	}
	if d := time.Since(start); d > time.Second {
		t.Logf("every node reached the chain again after %.1fs", d.Seconds())
	}
}

// checkRelay: m1 and m2 are behind different NATs, so neither can dial the
// other; a chat message from m1 to m2 goes through a relay (the connection's
// remote address has /p2p-circuit), after m1 found m2's relay address in
// the DHT. If DCUtR then punches through both NATs, a direct connection
// appears too; the lab's NATs are address-and-port filtering and its
// addresses private (libp2p's hole punching waits for a public address), so
// that is reported, not required.
func checkRelay(t *testing.T, c *Cluster) {
	ctx := t.Context()
	m1, m2 := c.Node("m1"), c.Node("m2")
	var sent struct {
		Status  string `json:"status"`
		Holders int    `json:"holders"`
	}
	if _, err := c.CLI(ctx, m1, &sent, "chat", "send", m2.PeerID, "hello through the relay", "--json"); err != nil {
		t.Fatal(err)
	}
	if sent.Holders != 0 {
		t.Fatalf("m1 -> m2 was not delivered directly but left with %d mailbox peers (%s): no relayed connection", sent.Holders, sent.Status)
	}
	waitFor(t, ctx, "m2 reads m1's message", 30*time.Second, func() (bool, string) {
		out, err := c.CLI(ctx, m2, nil, "chat", "read", m1.PeerID)
		return err == nil && strings.Contains(out, "hello through the relay"), fmt.Sprint(out, err)
	})
	addrs, err := connAddrs(ctx, c, m1, m2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(addrs, isCircuit) {
		t.Fatalf("m1's connections to m2: %v, want a relayed one (/p2p-circuit)", addrs)
	}
	t.Logf("m1 reached m2 through a relay: %v", addrs)
	direct, _ := poll(ctx, 10*time.Second, func() (bool, string) {
		addrs, err := connAddrs(ctx, c, m1, m2)
		return err == nil && slices.ContainsFunc(addrs, func(a string) bool { return !isCircuit(a) }), fmt.Sprint(addrs)
	})
	if direct {
		t.Logf("hole punching succeeded: m1 also has a direct connection to m2")
	} else {
		t.Logf("hole punching did not give a direct connection within 10 s (private lab addresses, filtering NATs): m1 and m2 talk through the relay")
	}
}

// chatTexts returns the texts of the messages in n's conversation with
// peer, in order.
func chatTexts(ctx context.Context, c *Cluster, n *Node, peer string) ([]string, error) {
	var msgs []struct {
		Text      string `json:"text"`
		Direction string `json:"direction"`
	}
	if _, err := c.CLI(ctx, n, &msgs, "chat", "read", peer, "--json"); err != nil {
		return nil, err
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out, nil
}

// exactlyOnce reports whether got holds each of want exactly once.
func exactlyOnce(got, want []string) (bool, string) {
	for _, w := range want {
		if n := countOf(got, w); n != 1 {
			return false, fmt.Sprintf("%q appears %d times in %q", w, n, got)
		}
	}
	return true, ""
}

func countOf(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// checkChatPartition: n5 writes to m2 (behind NAT, reached through its
// relays) before, during and after a partition that puts n5 and n3 on one
// side and everyone else on the other. Every message the CLI accepted
// arrives exactly once once the partition heals.
func checkChatPartition(t *testing.T, c *Cluster) {
	ctx := t.Context()
	alice, bob := c.Node("n5"), c.Node("m2")
	step := stepper(t)
	var want []string
	send := func(text string) error {
		_, err := c.CLI(ctx, alice, nil, "chat", "send", bob.PeerID, text)
		if err == nil {
			want = append(want, text)
		}
		return err
	}
	for i := 1; i <= 3; i++ {
		if err := send(fmt.Sprintf("before %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, "m2 reads the first messages", 30*time.Second, func() (bool, string) {
		got, err := chatTexts(ctx, c, bob, alice.PeerID)
		ok, why := exactlyOnce(got, want)
		return err == nil && ok, fmt.Sprint(why, err)
	})

	step("first messages read")
	if err := c.Lab.Partition(ctx, []string{"n5", "n3"}, []string{"n1", "n2", "n4", "m1", "m2"}); err != nil {
		t.Fatal(err)
	}
	// Three sends at once, as from three chat windows: each waits for its
	// own delivery attempts to fail.
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := 1; i <= 3; i++ {
		wg.Go(func() {
			text := fmt.Sprintf("during %d", i)
			_, err := c.CLI(ctx, alice, nil, "chat", "send", bob.PeerID, text)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Logf("send during the partition refused (not counted): %v", err)
				return
			}
			want = append(want, text)
		})
	}
	wg.Wait()
	step("sent during the partition")
	if err := c.Lab.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	step("healed")
	for i := 1; i <= 3; i++ {
		if err := send(fmt.Sprintf("after %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	step(fmt.Sprintf("%d of 9 messages accepted by the CLI", len(want)))
	waitFor(t, ctx, "m2 has every accepted message exactly once", 90*time.Second, func() (bool, string) {
		got, err := chatTexts(ctx, c, bob, alice.PeerID)
		ok, why := exactlyOnce(got, want)
		return err == nil && ok, fmt.Sprint(why, err)
	})
	step("all delivered")
	t.Cleanup(func() {
		// Later subtests ran meanwhile: a late duplicate would show now.
		got, err := chatTexts(context.Background(), c, bob, alice.PeerID)
		if ok, why := exactlyOnce(got, want); err != nil || !ok {
			t.Errorf("m2's conversation changed later: %s %v", why, err)
		}
	})
}

type auctionView struct {
	Asset      string `json:"asset"`
	Leader     string `json:"leader"`
	LeadingBid *struct {
		TON string `json:"ton"`
	} `json:"leading_bid"`
	Bids      int  `json:"bids"`
	Confirmed bool `json:"confirmed"`
}

func (a auctionView) String() string {
	bid := "-"
	if a.LeadingBid != nil {
		bid = a.LeadingBid.TON
	}
	return fmt.Sprintf("%s leader %s at %s (%d bids, confirmed %v)", a.Asset, a.Leader, bid, a.Bids, a.Confirmed)
}

func auctionOf(ctx context.Context, c *Cluster, n *Node, asset string) (auctionView, error) {
	var list []auctionView
	if _, err := c.CLI(ctx, n, &list, "market", "list", "--json"); err != nil {
		return auctionView{}, err
	}
	for _, a := range list {
		if a.Asset == asset {
			return a, nil
		}
	}
	return auctionView{}, fmt.Errorf("%s does not list %s", n.Name, asset)
}

// checkAuctionPartition: n2 auctions a number; during a partition that cuts
// n4, n5 and m2 off the chain's side, n3 bids; n5's bid fails or stays on
// its side. After the heal n5 outbids, and every node shows the state that
// the chain confirms.
func checkAuctionPartition(t *testing.T, c *Cluster) {
	ctx := t.Context()
	seller, near, far := c.Node("n2"), c.Node("n3"), c.Node("n5")
	step := stepper(t)
	var bought struct {
		Asset string `json:"asset"`
	}
	waitFor(t, ctx, "the registry deploys the collection and sells a number", time.Minute, func() (bool, string) {
		out, err := c.CLI(ctx, seller, &bought, "market", "buy-number", "--json")
		return err == nil && bought.Asset != "", fmt.Sprint(out, err)
	})
	asset := bought.Asset
	if _, err := c.CLI(ctx, seller, nil, "market", "auction", "start", asset, "--min", "2", "--duration", "1h"); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes {
		waitFor(t, ctx, n.Name+" sees the auction", 30*time.Second, func() (bool, string) {
			a, err := auctionOf(ctx, c, n, asset)
			return err == nil, fmt.Sprint(a, err)
		})
	}

	step("every node sees the auction")
	if err := c.Lab.Partition(ctx, []string{"n1", "n2", "n3", "m1"}, []string{"n4", "n5", "m2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CLI(ctx, near, nil, "market", "bid", asset, "2"); err != nil {
		t.Fatalf("a bid on the chain's side of the partition: %v", err)
	}
	step("n3 bid")
	// Its user gives up after 5 s (Ctrl-C) if the bid hangs.
	bidCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err := c.CLI(bidCtx, far, nil, "market", "bid", asset, "2.5")
	cancel()
	if err != nil {
		t.Logf("n5's bid cut off from the chain failed: %v", err)
	} else {
		t.Logf("n5's bid cut off from the chain was accepted locally")
	}
	if err := c.Lab.Heal(ctx); err != nil {
		t.Fatal(err)
	}

	step("healed")
	// After the heal n5 outbids whatever the chain has.
	var final string
	waitFor(t, ctx, "n5 outbids after the heal", time.Minute, func() (bool, string) {
		a, err := auctionOf(ctx, c, far, asset)
		if err != nil {
			return false, err.Error()
		}
		for _, amount := range []string{"3", "4", "5"} {
			if _, err := c.CLI(ctx, far, nil, "market", "bid", asset, amount); err == nil {
				final = amount
				return true, ""
			}
		}
		return false, a.String()
	})
	step("n5 outbid")
	chainView := func() (auctionView, error) { return auctionOf(ctx, c, c.Node("n1"), asset) }
	waitFor(t, ctx, "the chain host confirms n5's bid", time.Minute, func() (bool, string) {
		a, err := chainView()
		return err == nil && a.Confirmed && a.LeadingBid != nil && a.LeadingBid.TON == final, fmt.Sprint(a, err)
	})
	step("the chain confirms")
	want, _ := chainView()
	for _, n := range c.Nodes {
		waitFor(t, ctx, n.Name+" agrees with the chain", time.Minute, func() (bool, string) {
			a, err := auctionOf(ctx, c, n, asset)
			same := err == nil && a.Confirmed && a.Leader == want.Leader && a.LeadingBid != nil &&
				a.LeadingBid.TON == want.LeadingBid.TON && a.Bids == want.Bids
			return same, fmt.Sprintf("%v, chain: %v, %v", a, want, err)
		})
	}
}

type holder struct {
	Peer      string `json:"peer"`
	Reachable bool   `json:"reachable"`
	Status    string `json:"status"`
}

// checkVaultPartition: n5 stores a document while m2 is cut off (still
// "connected" over QUIC, which ignores the ICMP errors, so a placement
// candidate that fails);
// after the heal it reads it back and every shard's holder proves it has
// it. Then a holder stays away (its link down) and an audit rebuilds its
// shard on another peer.
func checkVaultPartition(t *testing.T, c *Cluster) {
	ctx := t.Context()
	owner := c.Node("n5")
	if err := c.Lab.Partition(ctx, []string{"n5", "n1", "n2", "n3", "n4", "m1"}, []string{"m2"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CLI(ctx, owner, nil, "passport", "add", "personal_details",
		"--field", "first_name=Ada", "--field", "last_name=Lovelace", "--field", "birth_date=10.12.1815",
		"--field", "gender=female", "--field", "country_code=GB", "--field", "residence_country_code=GB")
	if herr := c.Lab.Heal(ctx); herr != nil {
		t.Fatal(herr)
	}
	if err != nil {
		t.Fatalf("vault put during the partition (5 peers reachable, 4 shards): %v", err)
	}
	var shown struct {
		Data map[string]string `json:"data"`
	}
	if _, err := c.CLI(ctx, owner, &shown, "passport", "show", "personal_details", "--json"); err != nil || shown.Data["first_name"] != "Ada" {
		t.Fatalf("read back after the heal: %+v, %v", shown, err)
	}
	holders := func() ([]holder, error) {
		var hs []holder
		_, err := c.CLI(ctx, owner, &hs, "passport", "holders", "personal_details", "--json")
		return hs, err
	}
	waitFor(t, ctx, "every holder proves its shard after the heal", time.Minute, func() (bool, string) {
		hs, err := holders()
		return err == nil && len(hs) > 0 && !slices.ContainsFunc(hs, func(h holder) bool { return !h.Reachable }), fmt.Sprint(hs, err)
	})

	// One holder stays away: its shard must be rebuilt elsewhere.
	t.Run("repair", func(t *testing.T) { checkVaultRepair(t, c, owner, holders) })
}

// checkVaultRepair takes a holder of n5's document off the lab (link
// down) and waits for an audit to rebuild its shard on another peer.
func checkVaultRepair(t *testing.T, c *Cluster, owner *Node, holders func() ([]holder, error)) {
	ctx := t.Context()
	var shown struct {
		Data map[string]string `json:"data"`
	}
	hs, _ := holders()
	var away *Node // a holder that is not the chain host, which everyone needs
	for _, h := range hs {
		for _, n := range c.Nodes {
			if n.PeerID == h.Peer && !n.Role.EmuHost && away == nil {
				away = n
			}
		}
	}
	if away == nil {
		t.Fatalf("no holder to take away among %v", hs)
	}
	if err := c.Lab.Down(ctx, away.Name); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Lab.Up(ctx, away.Name); err != nil {
			t.Error(err)
		}
	}()
	// A check of the away holder waits out its challenge timeout (15 s):
	// one audit finds it away, one 5 s (vault.replace_after) later
	// replaces it, and each holders call waits for it once more.
	repaired, last := poll(ctx, 2*time.Minute, func() (bool, string) {
		var rep struct {
			Repaired int `json:"repaired"`
		}
		c.CLI(ctx, owner, &rep, "passport", "audit", "--json")
		hs, err := holders()
		ok := err == nil && len(hs) > 0 && !slices.ContainsFunc(hs, func(h holder) bool { return !h.Reachable || h.Peer == away.PeerID })
		return ok, fmt.Sprint(rep, hs, err)
	})
	if !repaired {
		t.Fatalf("the shard of a holder that stayed away (%s, link down) was not rebuilt elsewhere within 2 min; last: %s", away.Name, last)
	}
	if _, err := c.CLI(ctx, owner, &shown, "passport", "show", "personal_details", "--json"); err != nil || shown.Data["first_name"] != "Ada" {
		t.Fatalf("read after the repair: %+v, %v", shown, err)
	}
}

// checkInferenceFailover: n5 asks for a completion; the proxy that served
// it goes away (link down), and the next request fails over to the other
// proxy.
func checkInferenceFailover(t *testing.T, c *Cluster) {
	ctx := t.Context()
	client := c.Node("n5")
	var model string
	waitFor(t, ctx, "the worker's offer and both proxies reach n5", time.Minute, func() (bool, string) {
		var v struct {
			Offers []struct {
				Models []struct {
					ID string `json:"id"`
				} `json:"models"`
			} `json:"offers"`
			Proxies []struct {
				Peer string `json:"peer"`
			} `json:"proxies"`
		}
		_, err := c.CLI(ctx, client, &v, "compute", "offers", "--json")
		if err == nil && len(v.Offers) > 0 && len(v.Offers[0].Models) > 0 && len(v.Proxies) >= 2 {
			model = v.Offers[0].Models[0].ID
			return true, ""
		}
		return false, fmt.Sprint(v, err)
	})
	type result struct {
		Proxy string `json:"proxy"`
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	// Greedy sampling: a random seed could end the answer at its first
	// token (node.TestDefaultModelsAnswerGreedily pins this prompt).
	infer := func() (result, error) {
		var r result
		_, err := c.CLI(ctx, client, &r, "compute", "infer", "--model", model, "--temperature", "0", "--json", "Once upon a time")
		return r, err
	}
	first, err := infer()
	if err != nil {
		t.Fatalf("inference with every proxy up: %v", err)
	}
	var gone *Node
	for _, n := range c.Nodes {
		if n.PeerID == first.Proxy {
			gone = n
		}
	}
	if gone == nil {
		t.Fatalf("the answer names proxy %q, which is no lab node", first.Proxy)
	}
	if err := c.Lab.Down(ctx, gone.Name); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Lab.Up(ctx, gone.Name); err != nil {
			t.Error(err)
		}
	}()
	second, err := infer()
	if err != nil {
		var ce *CLIError
		if errors.As(err, &ce) {
			t.Fatalf("inference with proxy %s down did not fail over: %v", gone.Name, err)
		}
		t.Fatal(err)
	}
	if second.Proxy == first.Proxy || second.Usage.CompletionTokens == 0 {
		t.Fatalf("with %s down the answer came via %s (%d tokens)", gone.Name, second.Proxy, second.Usage.CompletionTokens)
	}
	t.Logf("proxy %s down: the client failed over to %s", gone.Name, second.Proxy)
}
