package node

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/chat"
	"github.com/tonmesh/tonmesh/compute"
	"github.com/tonmesh/tonmesh/compute/attest"
	"github.com/tonmesh/tonmesh/compute/backend"
	"github.com/tonmesh/tonmesh/compute/llama2c"
	"github.com/tonmesh/tonmesh/config"
	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/market"
	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/vault"
	"github.com/tonmesh/tonmesh/vault/share"
	"github.com/tonmesh/tonmesh/webui"
)

// This file turns the config of the vault, compute and market sections into
// each service's own Config and builds the service. Durations were checked
// by config.Validate, so their parse errors are ignored here.

// service is what node starts after the ledger and stops before it.
type service interface {
	Start(ctx context.Context) error
	Stop()
}

// services lists the services in start order (stop is the reverse). New
// sets all of them but the market, which is off without a registry.
func (n *Node) services() []service {
	svcs := []service{n.chat, n.vault, n.share, n.compute}
	if n.market != nil {
		svcs = append(svcs, n.market)
	}
	return svcs
}

// marketOff answers the market's routes on a node without a registry.
func marketOff() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiutil.WriteError(w, http.StatusServiceUnavailable, "market_off",
			"the market is off on this node: set market.registry in config.toml to the registry's wallet address (on a testnet: node1's)")
	})
}

func tons(n int) *big.Int {
	return new(big.Int).Mul(big.NewInt(int64(n)), big.NewInt(wallet.NanoPerTON))
}

func (n *Node) newVault() error {
	c := n.cfg.Vault
	audit, _ := time.ParseDuration(c.AuditInterval)
	replace, _ := time.ParseDuration(c.ReplaceAfter)
	var err error
	n.vault, err = vault.New(n.store, n.net, n.id, vault.Config{
		K: c.ShardsK, N: c.ShardsN, Quota: int64(c.QuotaMB) << 20, AuditInterval: audit,
		ReplaceAfter: replace,
	}, n.log.With("service", "vault"))
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.share, err = share.New(n.store, n.net, n.id, n.vault, n.ledger, share.Config{}, n.log.With("service", "passport"))
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

func (n *Node) newCompute(o options) error {
	c := n.cfg.Compute
	cc := compute.Config{
		Worker:            slices.Contains(c.Roles, config.RoleWorker),
		Proxy:             slices.Contains(c.Roles, config.RoleProxy),
		PricePrompt:       big.NewInt(c.PricePrompt),
		PriceCompletion:   big.NewInt(c.PriceCompletion),
		Concurrency:       c.Concurrency,
		AllowUnattested:   c.AllowUnattested,
		CommissionPercent: float64(c.CommissionPercent),
		ChannelDeposit:    tons(c.ChannelDepositTON),
	}
	if c.MaxPrice > 0 {
		cc.MaxPrice = big.NewInt(c.MaxPrice)
	}
	if cc.Worker {
		var err error
		if cc.Backend, err = n.computeBackend(); err != nil {
			return err
		}
		if cc.Attester, err = attester(c.Attestation); err != nil {
			return err
		}
	}
	if o.compute != nil {
		o.compute(&cc)
	}
	var err error
	n.compute, err = compute.New(n.store, n.net, n.id, n.ledger, cc, n.log.With("service", "compute"))
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

// computeBackend builds the worker's engine: an OpenAI-compatible server,
// or the built-in runner on the configured checkpoint, on stories260K when
// it can be found, or on a random-weight demo model, named as such.
func (n *Node) computeBackend() (backend.Backend, error) {
	c := n.cfg.Compute
	if c.Backend == config.BackendOpenAI {
		return backend.NewOpenAI(c.OpenAIURL, c.OpenAIKey), nil
	}
	if c.ModelDir != "" {
		name, m, err := loadModelDir(c.ModelDir)
		if err != nil {
			return nil, fmt.Errorf("config: key \"compute.model_dir\": %w", err)
		}
		return llama2c.NewBackend(name, m), nil
	}
	if ckpt, tok, ok := llama2c.DefaultPaths(); ok {
		m, err := llama2c.Load(ckpt, tok)
		if err != nil {
			return nil, fmt.Errorf("node: load the stories260K model found at %s: %w", ckpt, err)
		}
		return llama2c.NewBackend("stories260K", m), nil
	}
	n.log.Warn("no llama2.c checkpoint found: serving a random-weight demo model (set compute.model_dir to serve a real one)", "model", DemoModel)
	return demoBackend(), nil
}

// demoBackend serves DemoModel: random weights, the same on every node.
func demoBackend() backend.Backend {
	return llama2c.NewBackend(DemoModel, llama2c.Random(llama2c.Config{}, 1))
}

// loadModelDir loads the llama2.c checkpoint in dir: the one *.bin file
// that is not a tokenizer, and the tok*.bin beside it. The model is named
// after the checkpoint file.
func loadModelDir(dir string) (string, *llama2c.Model, error) {
	toks, _ := filepath.Glob(filepath.Join(dir, "tok*.bin"))
	all, _ := filepath.Glob(filepath.Join(dir, "*.bin"))
	var ckpts []string
	for _, f := range all {
		if !slices.Contains(toks, f) {
			ckpts = append(ckpts, f)
		}
	}
	if len(ckpts) != 1 || len(toks) != 1 {
		return "", nil, fmt.Errorf("%s must hold one checkpoint (*.bin) and one tokenizer (tok*.bin); found checkpoints %v and tokenizers %v", dir, ckpts, toks)
	}
	m, err := llama2c.Load(ckpts[0], toks[0])
	if err != nil {
		return "", nil, err
	}
	return strings.TrimSuffix(filepath.Base(ckpts[0]), ".bin"), m, nil
}

// DemoModel names the random-weight model a worker serves when it has no
// checkpoint: its output is gibberish, and the name says so.
const DemoModel = "random-demo"

func attester(kind string) (attest.Attester, error) {
	switch kind {
	case config.AttestTDX:
		a, err := attest.TDXAttester()
		if err != nil {
			return nil, fmt.Errorf("config: key \"compute.attestation\" = %q: %w", kind, err)
		}
		return a, nil
	case config.AttestSEVSNP:
		a, err := attest.SEVSNPAttester()
		if err != nil {
			return nil, fmt.Errorf("config: key \"compute.attestation\" = %q: %w", kind, err)
		}
		return a, nil
	}
	return attest.NoneAttester(), nil
}

func (n *Node) newMarket() error {
	c := n.cfg.Market
	registry := c.Registry
	if registry == "" && n.cfg.TON.EmuHost {
		registry = n.addr // a testnet's first node is its registry
	}
	if registry == "" {
		n.log.Info("market off: market.registry is not set")
		return nil
	}
	reg, err := wallet.ParseAddress(registry)
	if err != nil {
		return fmt.Errorf("config: key \"market.registry\": %w", err)
	}
	ttl, _ := time.ParseDuration(c.CodeTTL)
	mc := market.Config{
		Collection: onchain.Collection{Registry: reg, GlobalID: n.network.GlobalID(),
			FeePercent: uint8(c.FeePercent), NumberPrice: tons(c.NumberPriceTON)},
		Registry: reg.StringRaw() == n.addrRaw,
		CodeTTL:  ttl,
	}
	n.market, err = market.New(n.store, n.net, n.id, n.ledger, chatMessenger{n.chat}, mc, n.log.With("service", "market"))
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

// ownerOf resolves a username or +888 number to its owner's wallet on
// chain, for chat recipients.
func (n *Node) ownerOf(ctx context.Context, name string) (*address.Address, error) {
	if n.market == nil {
		return nil, errors.New("names need the market, which is off on this node (set market.registry)")
	}
	a, err := onchain.ParseAsset(name)
	if err != nil {
		return nil, err
	}
	info, err := n.market.Show(ctx, a)
	if err != nil {
		return nil, err
	}
	if !info.Minted || info.Owner == "" {
		return nil, fmt.Errorf("%s is not minted: nobody owns it", a)
	}
	return wallet.ParseAddress(info.Owner)
}

// chatMessenger lets the market notify an asset's owner through chat, which
// encrypts end to end and keeps the message in mailboxes while the owner is
// offline.
type chatMessenger struct{ chat *chat.Service }

func (m chatMessenger) Send(ctx context.Context, to peer.ID, text string) error {
	_, err := m.chat.Send(ctx, to, text, 0)
	return err
}

// bidEvent is a bid as the web app's market page hears of it.
type bidEvent struct {
	Asset  string `json:"asset"`
	Bidder string `json:"bidder"`
	TON    string `json:"ton"`
	Leads  bool   `json:"leads"`
}

// webUIOptions gives the web app its live event sources: chat events
// (without text) and bids accepted from gossip.
func (n *Node) webUIOptions() []webui.Option {
	opts := []webui.Option{
		webui.WithLogger(n.log.With("service", "webui")),
		webui.WithEvents("chat", func(send func(any)) func() {
			return n.chat.OnEvent(func(e chat.Event) { send(e) })
		}),
	}
	if n.market != nil {
		opts = append(opts, webui.WithEvents("bids", func(send func(any)) func() {
			return n.market.OnBid(func(b market.AcceptedBid) {
				send(bidEvent{Asset: b.Asset.String(), Bidder: b.Bidder.String(), TON: wallet.FormatTON(b.Amount), Leads: b.Leads})
			})
		}))
	}
	return opts
}
