package lite

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/liteclient"
	"github.com/xssnick/tonutils-go/tlb"
	tonapi "github.com/xssnick/tonutils-go/ton"
)

const (
	// DefaultRetries is how many more liteservers a failed request tries.
	DefaultRetries = 3
	// DefaultAttemptTimeout bounds one request to one liteserver.
	DefaultAttemptTimeout = 10 * time.Second

	// pageSize is how many transactions one getTransactions asks for;
	// liteservers answer at most 16.
	pageSize = 16
	// reconnectEvery spaces the attempts to reconnect a dropped liteserver.
	reconnectEvery = 3 * time.Second
	// reconnectTimeout bounds one reconnect attempt.
	reconnectTimeout = 10 * time.Second
	// globalIDParam is the config parameter holding the global ID.
	globalIDParam = 19
)

// liteAPI is the part of tonutils-go's API client the chain uses;
// ton.APIClientWrapped has all of it.
type liteAPI interface {
	Client() tonapi.LiteClient
	CurrentMasterchainInfo(ctx context.Context) (*tonapi.BlockIDExt, error)
	GetAccount(ctx context.Context, block *tonapi.BlockIDExt, addr *address.Address) (*tlb.Account, error)
	RunGetMethod(ctx context.Context, block *tonapi.BlockIDExt, addr *address.Address, method string, params ...any) (*tonapi.ExecutionResult, error)
	SendExternalMessage(ctx context.Context, msg *tlb.ExternalMessage) error
	GetBlockchainConfig(ctx context.Context, block *tonapi.BlockIDExt, onlyParams ...int32) (*tlb.BlockchainConfig, error)
}

// Chain is a ton.Chain served by TON liteservers. It is safe for
// concurrent use. Close it when done.
type Chain struct {
	api      liteAPI
	pool     *liteclient.ConnectionPool // nil when built over a given liteAPI
	log      *slog.Logger
	network  string
	source   string // the global config's path or URL, for messages
	globalID int32
	pageSize uint32

	ctx       context.Context // cancelled by Close: ends reconnect loops
	cancel    context.CancelFunc
	closeOnce sync.Once
}

var _ ton.Chain = (*Chain)(nil)

type options struct {
	log            *slog.Logger
	retries        int
	attemptTimeout time.Duration
}

// Option configures Dial.
type Option func(*options)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRetry sets how many more attempts, on other liteservers, a request
// that timed out or met a transient liteserver error gets (maxRetries; 0
// means no limit but the call's context) and the timeout of one attempt
// (0: none, only the call's context). Defaults: DefaultRetries,
// DefaultAttemptTimeout.
func WithRetry(maxRetries int, attemptTimeout time.Duration) Option {
	return func(o *options) { o.retries, o.attemptTimeout = maxRetries, attemptTimeout }
}

// Dial loads cfg.GlobalConfig, connects to its liteservers, proves the
// current masterchain head from the config's init block and checks that
// the chain's global ID is cfg.Network's. ctx bounds all of it; connecting
// returns as soon as one liteserver answers, and the others keep being
// added in the background until Close.
func Dial(ctx context.Context, cfg Config, opts ...Option) (*Chain, error) {
	o := options{log: slog.Default(), retries: DefaultRetries, attemptTimeout: DefaultAttemptTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	if _, err := networkGlobalID(cfg.Network); err != nil {
		return nil, err
	}
	gc, err := loadGlobalConfig(ctx, cfg.GlobalConfig)
	if err != nil {
		return nil, err
	}
	if err := checkZeroState(cfg.Network, gc, cfg.GlobalConfig); err != nil {
		return nil, err
	}

	pool := liteclient.NewConnectionPool()
	api := tonapi.NewAPIClient(pool, tonapi.ProofCheckPolicySecure)
	api.SetTrustedBlockFromConfig(gc)
	c := newChain(liveAPI{api.WithRetryTimeout(o.retries, o.attemptTimeout)}, cfg, o)
	c.pool = pool
	pool.SetOnDisconnect(c.reconnect)

	if err := pool.AddConnectionsFromConfig(ctx, gc); err != nil {
		c.Close()
		return nil, fmt.Errorf("ton: connect to the %s liteservers of %s: none of the %d answered: %w; "+
			"check that this machine can open TCP connections to them, or use a fresher global config (%s)",
			cfg.Network, cfg.GlobalConfig, len(gc.Liteservers), err, configHint)
	}
	if err := c.start(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// newChain builds a chain over api; Dial and the tests use it.
func newChain(api liteAPI, cfg Config, o options) *Chain {
	ctx, cancel := context.WithCancel(context.Background())
	return &Chain{
		api:      api,
		log:      o.log,
		network:  cfg.Network,
		source:   cfg.GlobalConfig,
		pageSize: pageSize,
		ctx:      ctx,
		cancel:   cancel,
	}
}

// start proves the masterchain head and reads and checks the global ID.
func (c *Chain) start(ctx context.Context) error {
	master, err := c.api.CurrentMasterchainInfo(ctx)
	if err != nil {
		return fmt.Errorf("ton: prove the %s masterchain head from the init block of %s: %w; "+
			"if a proof failed, the config's init_block is wrong or of another network (%s)",
			c.network, c.source, err, configHint)
	}
	id, err := c.readGlobalID(ctx, master)
	if err != nil {
		return err
	}
	if err := checkGlobalID(c.network, id, c.source); err != nil {
		return err
	}
	c.globalID = id
	c.log.Info("ton: connected to liteservers", "network", c.network, "global_id", id,
		"masterchain_seqno", master.SeqNo, "global_config", c.source)
	return nil
}

// readGlobalID reads config param 19 (global_id:int32) at block.
func (c *Chain) readGlobalID(ctx context.Context, block *tonapi.BlockIDExt) (int32, error) {
	cfg, err := c.api.GetBlockchainConfig(ctx, block, globalIDParam)
	if err != nil {
		return 0, fmt.Errorf("ton: read the global id (config param 19) from the %s liteservers: %w", c.network, err)
	}
	id, err := globalIDOf(cfg)
	if err != nil {
		return 0, fmt.Errorf("ton: the %s liteservers sent a bad config param 19: %w", c.network, err)
	}
	return id, nil
}

func globalIDOf(cfg *tlb.BlockchainConfig) (id int32, err error) {
	defer guard("config param 19", &err)
	if cfg == nil {
		return 0, fmt.Errorf("no config")
	}
	p, err := cfg.GetParam(globalIDParam)
	if err != nil {
		return 0, err
	}
	s, err := p.BeginParse()
	if err != nil {
		return 0, err
	}
	v, err := s.LoadInt(32)
	if err != nil {
		return 0, err
	}
	return int32(v), nil
}

// GlobalID implements ton.Chain: the global ID Dial read and checked.
func (c *Chain) GlobalID() int32 { return c.globalID }

// Close disconnects from the liteservers and stops reconnecting. It is
// safe to call more than once.
func (c *Chain) Close() {
	c.closeOnce.Do(func() {
		c.cancel()
		if c.pool != nil {
			c.pool.Stop()
		}
	})
}

// reconnect is the pool's disconnect callback (tonutils-go runs it in a
// goroutine of its own): it re-adds the liteserver until that works or
// the chain is closed. It replaces tonutils-go's default, which retries
// forever, even after the pool is stopped.
func (c *Chain) reconnect(addr, key string) {
	c.log.Warn("ton: liteserver disconnected, reconnecting", "addr", addr)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(c.ctx, reconnectTimeout)
		err := c.pool.AddConnection(ctx, addr, key)
		cancel()
		if err == nil {
			c.log.Info("ton: liteserver reconnected", "addr", addr)
			return
		}
		c.log.Debug("ton: reconnect failed", "addr", addr, "err", err)
		t.Reset(reconnectEvery)
	}
}

// liveAPI makes the block-bound requests wait until the liteserver that
// serves them has the block (liteservers of a pool lag each other).
type liveAPI struct{ tonapi.APIClientWrapped }

func (l liveAPI) GetAccount(ctx context.Context, b *tonapi.BlockIDExt, addr *address.Address) (*tlb.Account, error) {
	return l.WaitForBlock(b.SeqNo).GetAccount(ctx, b, addr)
}

func (l liveAPI) RunGetMethod(ctx context.Context, b *tonapi.BlockIDExt, addr *address.Address, method string, params ...any) (*tonapi.ExecutionResult, error) {
	return l.WaitForBlock(b.SeqNo).RunGetMethod(ctx, b, addr, method, params...)
}

func (l liveAPI) GetBlockchainConfig(ctx context.Context, b *tonapi.BlockIDExt, onlyParams ...int32) (*tlb.BlockchainConfig, error) {
	return l.WaitForBlock(b.SeqNo).GetBlockchainConfig(ctx, b, onlyParams...)
}

// guard turns a panic in third-party decoding of liteserver data into an
// error. Use as: defer guard("what", &err).
func guard(what string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("lite: %s: a liteserver sent data that could not be decoded (%v)", what, r)
	}
}
