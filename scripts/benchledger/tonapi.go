package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/ton/wallet"

	"github.com/tonmesh/tonmesh/internal/benchutil"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/emu"
	"github.com/tonmesh/tonmesh/ledger/ton/remote"
	"github.com/tonmesh/tonmesh/ledger/ton/toncenter"
	"github.com/tonmesh/tonmesh/p2p"
)

// TonAPIResult puts the toncenter v2 API beside tonmesh's own chain
// protocol, on the same chain and in the same run: a chain host (emu) and
// a second node that reaches it over libp2p (remote) and serves toncenter
// over HTTP on loopback, as every testnet node but the first does.
type TonAPIResult struct {
	// SendBoc is jsonRPC sendBoc of a signed v5r1 transfer on the second
	// node until the answer, which comes once the chain executed it.
	SendBoc benchutil.Latency `json:"toncenter_sendboc_to_confirmed"`
	// SendOwn is the same orders through remote.Client.SendExternal.
	SendOwn benchutil.Latency `json:"own_protocol_send_external_to_confirmed"`
	// GetMethod is jsonRPC runGetMethod "seqno" calls, one client in turn.
	GetMethod Rate `json:"toncenter_run_get_method"`
	// GetMethodOwn is remote.Client.RunGetMethod "seqno", one caller.
	GetMethodOwn Rate `json:"own_protocol_run_get_method"`
	// Ratios: toncenter over own protocol (latency p50, calls/s).
	SendP50Ratio    float64 `json:"sendboc_p50_per_own_p50"`
	GetMethodsRatio float64 `json:"run_get_method_per_own"`
}

// tonAPIBed is the two nodes and the HTTP endpoint.
type tonAPIBed struct {
	chain    *emu.Chain
	client   *remote.Client
	endpoint string
	close    func()
}

func newTonAPIBed(ctx context.Context, base string) (*tonAPIBed, error) {
	s, err := openTempStore(base, "tonapi")
	if err != nil {
		return nil, err
	}
	closers := []func(){func() { s.close() }}
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	chain, err := emu.New(s.Store)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("open the emulated chain: %w", err)
	}
	var nets []*p2p.Network
	for range 2 {
		key, _, _ := crypto.GenerateEd25519Key(rand.Reader)
		n, err := p2p.New(ctx, key, p2p.Config{ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}})
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("start a libp2p host: %w", err)
		}
		closers = append(closers, func() { n.Close() })
		nets = append(nets, n)
	}
	host, user := nets[0], nets[1]
	srv := remote.Serve(host, chain)
	closers = append(closers, srv.Stop)
	if err := user.Host().Connect(ctx, peer.AddrInfo{ID: host.ID(), Addrs: host.Addrs()}); err != nil {
		closeAll()
		return nil, fmt.Errorf("connect to the chain host: %w", err)
	}
	rc, err := remote.Dial(ctx, user, host.ID())
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("dial the chain host: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		closeAll()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/ton/api/v2/", toncenter.New(func() (ton.Chain, error) { return rc, nil }))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	closers = append(closers, func() { hs.Close() })
	return &tonAPIBed{chain: chain, client: rc, endpoint: "http://" + ln.Addr().String() + "/ton/api/v2/jsonRPC", close: closeAll}, nil
}

// rpc posts one jsonRPC call and fails unless it answers ok.
func (b *tonAPIBed) rpc(ctx context.Context, hc *http.Client, method string, params map[string]any) (json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"id": "1", "jsonrpc": "2.0", "method": method, "params": params})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.endpoint, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		OK     bool            `json:"ok"`
		Result json.RawMessage `json:"result"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || !out.OK {
		return nil, fmt.Errorf("%s: %d %s", method, resp.StatusCode, raw)
	}
	return out.Result, nil
}

// signer signs v5r1 transfers with tonutils-go's wallet at known seqnos.
type signer struct {
	w     *wallet.Wallet
	seqno uint32
}

func newSigner() (*signer, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	w, err := wallet.FromPrivateKeyWithOptions(key, wallet.ConfigV5R1Final{NetworkGlobalID: emu.DefaultGlobalID, Workchain: 0})
	if err != nil {
		return nil, err
	}
	return &signer{w: w}, nil
}

func (s *signer) next(ctx context.Context, to *address.Address) ([]byte, error) {
	seq := s.seqno
	s.w.GetSpec().(*wallet.SpecV5R1Final).SetSeqnoFetcher(func(context.Context, uint32) (uint32, error) { return seq, nil })
	msg := &wallet.Message{Mode: 3, InternalMessage: &tlb.InternalMessage{IHRDisabled: true, DstAddr: to, Amount: tlb.FromNanoTON(big.NewInt(sendAmount)), Body: nil}}
	ext, err := s.w.PrepareExternalMessageForMany(ctx, seq == 0, []*wallet.Message{msg})
	if err != nil {
		return nil, err
	}
	c, err := tlb.ToCell(ext)
	if err != nil {
		return nil, err
	}
	s.seqno++
	return c.ToBOC(), nil
}

// measureTonAPI times n sends and d of get-methods each way.
func measureTonAPI(ctx context.Context, base string, n int, d time.Duration) (*TonAPIResult, error) {
	b, err := newTonAPIBed(ctx, base)
	if err != nil {
		return nil, err
	}
	defer b.close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	viaAPI, err := newSigner()
	if err != nil {
		return nil, err
	}
	viaOwn, err := newSigner()
	if err != nil {
		return nil, err
	}
	to, _ := newSigner()
	fund := new(big.Int).Mul(big.NewInt(int64(n+2)), big.NewInt(2*sendAmount))
	fund.Add(fund, big.NewInt(1_000_000_000))
	for _, s := range []*signer{viaAPI, viaOwn} {
		if err := b.chain.Faucet(ctx, s.w.WalletAddress(), fund); err != nil {
			return nil, fmt.Errorf("fund a wallet: %w", err)
		}
	}
	sendAPI := func(boc []byte) error {
		_, err := b.rpc(ctx, hc, "sendBoc", map[string]any{"boc": base64.StdEncoding.EncodeToString(boc)})
		return err
	}
	sendOwn := func(boc []byte) error { _, err := b.client.SendExternal(ctx, boc); return err }
	// The first order of each wallet deploys it: not timed.
	lat := map[*signer][]time.Duration{}
	for i := 0; i <= n; i++ {
		for _, way := range []struct {
			s    *signer
			send func([]byte) error
		}{{viaAPI, sendAPI}, {viaOwn, sendOwn}} {
			boc, err := way.s.next(ctx, to.w.WalletAddress())
			if err != nil {
				return nil, err
			}
			start := time.Now()
			if err := way.send(boc); err != nil {
				return nil, fmt.Errorf("send %d: %w", i, err)
			}
			if i > 0 {
				lat[way.s] = append(lat[way.s], time.Since(start))
			}
		}
	}
	// Every order arrived (less the storage fee an idle account pays).
	if err := checkArrived(ctx, b.chain, to.w.WalletAddress(), big.NewInt(sendAmount), 2*(n+1)); err != nil {
		return nil, err
	}
	res := &TonAPIResult{SendBoc: benchutil.Summarize(lat[viaAPI], 0), SendOwn: benchutil.Summarize(lat[viaOwn], 0)}

	addr := viaAPI.w.WalletAddress()
	if res.GetMethod, err = callsFor(ctx, d, func() error {
		_, err := b.rpc(ctx, hc, "runGetMethod", map[string]any{"address": addr.String(), "method": "seqno", "stack": []any{}})
		return err
	}); err != nil {
		return nil, err
	}
	if res.GetMethodOwn, err = callsFor(ctx, d, func() error {
		_, err := b.client.RunGetMethod(ctx, addr, "seqno")
		return err
	}); err != nil {
		return nil, err
	}
	res.SendP50Ratio = benchutil.Ratio(res.SendBoc.P50MS, res.SendOwn.P50MS)
	res.GetMethodsRatio = benchutil.Ratio(res.GetMethod.PerS, res.GetMethodOwn.PerS)
	return res, nil
}

// callsFor calls f one at a time for d and reports the rate.
func callsFor(ctx context.Context, d time.Duration, f func() error) (Rate, error) {
	var ops int64
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		if err := f(); err != nil {
			return Rate{}, err
		}
		ops++
	}
	return rateOf(ops, time.Since(start)), nil
}
