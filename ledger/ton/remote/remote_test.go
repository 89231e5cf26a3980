package remote

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

func tons(n int64) *big.Int { return big.NewInt(n * wallet.NanoPerTON) }

func newNetwork(t *testing.T) *p2p.Network {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := p2p.New(t.Context(), key, p2p.Config{ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatalf("p2p.New: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close network: %v", err)
		}
	})
	return n
}

func openStore(t *testing.T) *ledger.Store {
	t.Helper()
	s, err := ledger.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testbed: a host serving an emu chain and a client connected to it.
type testbed struct {
	chain   *emu.Chain
	host    *p2p.Network
	client  *p2p.Network
	server  *Server
	remote  *Client
	clientS *ledger.Store
}

func newTestbed(t *testing.T) *testbed {
	t.Helper()
	ctx := t.Context()
	chain, err := emu.New(openStore(t))
	if err != nil {
		t.Fatal(err)
	}
	host, client := newNetwork(t), newNetwork(t)
	if err := client.Host().Connect(ctx, peer.AddrInfo{ID: host.ID(), Addrs: host.Addrs()}); err != nil {
		t.Fatalf("connect: %v", err)
	}
	server := Serve(host, chain, WithFaucet(chain.Faucet, tons(100)))
	rc, err := Dial(ctx, client, host.ID())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return &testbed{chain: chain, host: host, client: client, server: server, remote: rc, clientS: openStore(t)}
}

func newWallet(t *testing.T, chain ton.Chain, space *ledger.Space) *wallet.Wallet {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wallet.New(chain, key, identity.V5R1, space)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// sameView checks the client sees addr exactly as the chain holds it.
func sameView(t *testing.T, chain *emu.Chain, rc *Client, addr *address.Address) {
	t.Helper()
	ctx := context.Background()
	want, err := chain.Account(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rc.Account(ctx, addr)
	if err != nil {
		t.Fatalf("remote account: %v", err)
	}
	if got.Status != want.Status || got.Balance.Cmp(want.Balance) != 0 || got.LastTxLT != want.LastTxLT || !bytes.Equal(got.LastTxHash, want.LastTxHash) {
		t.Fatalf("remote account %s: %s %s lt %d; chain: %s %s lt %d", addr, got.Status, got.Balance, got.LastTxLT, want.Status, want.Balance, want.LastTxLT)
	}
	if (want.Code == nil) != (got.Code == nil) || want.Code != nil && !bytes.Equal(want.Code.Hash(), got.Code.Hash()) || want.Data != nil && !bytes.Equal(want.Data.Hash(), got.Data.Hash()) {
		t.Fatalf("remote account %s: code or data differ", addr)
	}
	wtx, err := chain.Transactions(ctx, addr, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	gtx, err := rc.Transactions(ctx, addr, 0, 0)
	if err != nil {
		t.Fatalf("remote transactions: %v", err)
	}
	if len(gtx) != len(wtx) {
		t.Fatalf("remote has %d transactions of %s, chain %d", len(gtx), addr, len(wtx))
	}
	for i := range wtx {
		w, g := wtx[i], gtx[i]
		if !bytes.Equal(w.Hash, g.Hash) || w.LT != g.LT || w.TotalFees.Cmp(g.TotalFees) != 0 || w.Success != g.Success || len(w.Out) != len(g.Out) ||
			(w.In == nil) != (g.In == nil) || w.In != nil && (!bytes.Equal(w.In.Hash, g.In.Hash) || w.In.Comment != g.In.Comment || w.In.Value.Cmp(g.In.Value) != 0) {
			t.Fatalf("transaction %d of %s differs over remote", i, addr)
		}
	}
	if len(wtx) > 1 {
		page, err := rc.Transactions(ctx, addr, wtx[0].LT, 1)
		if err != nil || len(page) != 1 || page[0].LT != wtx[1].LT {
			t.Fatalf("remote transactions after lt %d limit 1: %d, %v", wtx[0].LT, len(page), err)
		}
	}
}

// TestWalletOverRemote: a wallet on the client side funds itself from the
// host's faucet, deploys and sends over the protocol, and sees what the
// chain holds.
func TestWalletOverRemote(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	if tb.remote.GlobalID() != tb.chain.GlobalID() || !tb.remote.HasFaucet() {
		t.Fatalf("info: global id %d, faucet %v", tb.remote.GlobalID(), tb.remote.HasFaucet())
	}
	space, err := tb.clientS.Space(wallet.SpaceName)
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := newWallet(t, tb.remote, space), newWallet(t, tb.remote, nil)
	if err := tb.remote.Faucet(ctx, alice.Address(), tons(10)); err != nil {
		t.Fatalf("faucet over remote: %v", err)
	}
	r, err := alice.Send(ctx, bob.Address(), tons(3), "over libp2p")
	if err != nil {
		t.Fatalf("send over remote: %v", err)
	}
	if !r.Deployed || r.Seqno != 0 {
		t.Fatalf("receipt %+v", r)
	}
	want := new(big.Int).Sub(tons(7), r.Fees)
	// alice received 10 TON less the receiving fee, then paid 3 + fees.
	txs, err := tb.chain.Transactions(ctx, alice.Address(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want.Sub(want, txs[0].TotalFees)
	if got, _ := alice.Balance(ctx); got.Cmp(want) != 0 {
		t.Fatalf("alice balance over remote %s, want %s", got, want)
	}
	if _, err := bob.Send(ctx, alice.Address(), tons(1), "back"); err != nil {
		t.Fatalf("bob over remote: %v", err)
	}
	for _, a := range []*address.Address{alice.Address(), bob.Address(), tb.chain.FaucetAddress()} {
		sameView(t, tb.chain, tb.remote, a)
	}
	seqW, err := tb.chain.RunGetMethod(ctx, alice.Address(), "seqno")
	if err != nil {
		t.Fatal(err)
	}
	seqG, err := tb.remote.RunGetMethod(ctx, alice.Address(), "seqno")
	if err != nil || len(seqG) != 1 || seqG[0].(*big.Int).Cmp(seqW[0].(*big.Int)) != 0 {
		t.Fatalf("remote seqno %v, %v; chain %v", seqG, err, seqW)
	}
	pk, err := tb.remote.RunGetMethod(ctx, alice.Address(), "get_public_key")
	if err != nil || len(pk) != 1 {
		t.Fatalf("get_public_key over remote: %v, %v", pk, err)
	}
	deps, err := alice.Deposits().Sync(ctx)
	if err != nil || len(deps) != 2 {
		t.Fatalf("deposits over remote: %d, %v; want 2 (faucet, bob)", len(deps), err)
	}
}

func TestRemoteErrors(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	alice, bob := newWallet(t, tb.remote, nil), newWallet(t, tb.remote, nil)

	if _, err := tb.remote.RunGetMethod(ctx, alice.Address(), "seqno"); !errors.Is(err, ton.ErrNotActive) {
		t.Errorf("get-method on a non-existent account: %v, want ton.ErrNotActive", err)
	}
	if err := tb.remote.Faucet(ctx, alice.Address(), tons(101)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("faucet over the host's limit: %v", err)
	}
	if err := tb.remote.Faucet(ctx, alice.Address(), tons(5)); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Send(ctx, bob.Address(), tons(1), ""); err != nil {
		t.Fatal(err)
	}
	var gm *ton.ErrGetMethod
	if _, err := tb.remote.RunGetMethod(ctx, alice.Address(), "no_such_method"); !errors.As(err, &gm) || gm.ExitCode == 0 {
		t.Errorf("unknown get-method: %v, want *ton.ErrGetMethod with an exit code", err)
	}
	// A replayed order: the wallet contract refuses it; ErrRejected
	// crosses the wire.
	txs, _ := tb.chain.Transactions(ctx, alice.Address(), 0, 0)
	var order []byte
	for _, tx := range txs {
		if tx.In != nil && tx.In.Kind == ton.ExternalIn {
			order = externalBOC(t, tx)
		}
	}
	if _, err := tb.remote.SendExternal(ctx, order); !errors.Is(err, ton.ErrRejected) {
		t.Errorf("replayed order: %v, want ton.ErrRejected", err)
	}

	// Without a faucet the host says so.
	tb.server.Stop()
	Serve(tb.host, tb.chain)
	if err := tb.remote.Faucet(ctx, alice.Address(), tons(1)); !errors.Is(err, ErrNoFaucet) {
		t.Errorf("faucet on a host without one: %v, want ErrNoFaucet", err)
	}
}

// externalBOC rebuilds the external message a transaction ran from the
// transaction's BOC.
func externalBOC(t *testing.T, tx *ton.Transaction) []byte {
	t.Helper()
	root, err := cell.FromBOC(tx.BOC)
	if err != nil {
		t.Fatal(err)
	}
	var parsed tlb.Transaction
	if err := tlb.Parse(&parsed, root); err != nil {
		t.Fatal(err)
	}
	c, err := tlb.ToCell(parsed.IO.In.AsExternalIn())
	if err != nil {
		t.Fatal(err)
	}
	return c.ToBOC()
}

// TestMalformedRequestsGetErrors sends raw bytes to the host: each gets an
// error answer (or, over the size limit, a reset stream), and the host
// keeps serving.
func TestMalformedRequestsGetErrors(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	deep := `{"t":"int","n":"1"}`
	for range 20 {
		deep = `{"t":"tuple","items":[` + deep + `]}`
	}
	addr := tb.chain.FaucetAddress().StringRaw()
	before, err := tb.chain.Account(ctx, tb.chain.FaucetAddress())
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string]string{
		"empty":         "",
		"garbage":       "\x00\xffnot json",
		"version":       `{"v":2,"method":"info"}`,
		"method":        `{"v":1,"method":"drop_tables"}`,
		"unknown field": `{"v":1,"method":"info","admin":true}`,
		"trailing":      `{"v":1,"method":"info"}{"v":1,"method":"info"}`,
		"foreign field": `{"v":1,"method":"info","addr":"` + addr + `"}`,
		"bad addr":      `{"v":1,"method":"account","addr":"0:zz"}`,
		"no addr":       `{"v":1,"method":"account"}`,
		"bad boc":       `{"v":1,"method":"send_external","boc":"AAAA"}`,
		"bad limit":     `{"v":1,"method":"transactions","addr":"` + addr + `","limit":100000}`,
		"bad get name":  `{"v":1,"method":"run_get_method","addr":"` + addr + `","get":"a b"}`,
		"deep args":     `{"v":1,"method":"run_get_method","addr":"` + addr + `","get":"seqno","args":[` + deep + `]}`,
		"bad int":       `{"v":1,"method":"run_get_method","addr":"` + addr + `","get":"seqno","args":[{"t":"int","n":"1e5"}]}`,
		"bad cell":      `{"v":1,"method":"run_get_method","addr":"` + addr + `","get":"seqno","args":[{"t":"cell","boc":"AAAA"}]}`,
		"neg faucet":    `{"v":1,"method":"faucet","addr":"` + addr + `","amount":"-5"}`,
	} {
		out, err := tb.client.Request(ctx, tb.host.ID(), Protocol, []byte(raw), MaxResponseSize)
		if err != nil {
			t.Errorf("%s: no answer: %v", name, err)
			continue
		}
		var resp response
		if err := json.Unmarshal(out, &resp); err != nil || resp.Err == nil || resp.Err.Code != CodeBadRequest {
			t.Errorf("%s: answer %s, want a bad_request error", name, out)
		}
	}
	huge := bytes.Repeat([]byte("x"), MaxRequestSize+1)
	if _, err := tb.client.Request(ctx, tb.host.ID(), Protocol, huge, MaxResponseSize); err == nil {
		t.Errorf("oversized request was answered")
	}
	if _, err := tb.remote.Account(ctx, tb.chain.FaucetAddress()); err != nil {
		t.Fatalf("host stopped serving after malformed requests: %v", err)
	}
	if after, _ := tb.chain.Account(ctx, tb.chain.FaucetAddress()); after.LastTxLT != before.LastTxLT || after.Balance.Cmp(before.Balance) != 0 {
		t.Fatalf("malformed requests changed the chain")
	}
}

func TestDialFailsWithoutHost(t *testing.T) {
	client, other := newNetwork(t), newNetwork(t)
	if err := client.Host().Connect(t.Context(), peer.AddrInfo{ID: other.ID(), Addrs: other.Addrs()}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := Dial(ctx, client, other.ID()); err == nil {
		t.Fatalf("Dial to a peer that serves no chain succeeded")
	}
}
