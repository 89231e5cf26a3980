package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/xssnick/tonutils-go/address"
)

// ErrNoFaucet is returned by Client.Faucet when the host runs no faucet.
var ErrNoFaucet = errors.New("remote: the chain host runs no faucet")

// ErrFaucetRateLimited is returned by Client.Faucet when this node asked
// the host's faucet too often; the message says when to try again.
var ErrFaucetRateLimited = errors.New("remote: faucet rate limit")

// RemoteError is an error the host answered with.
type RemoteError struct {
	Code    string
	Message string
}

func (e *RemoteError) Error() string { return "remote chain: " + e.Code + ": " + e.Message }

// Unwrap maps the host's codes to the ton package's errors, so callers
// test errors.Is(err, ton.ErrRejected) whichever chain they have.
func (e *RemoteError) Unwrap() error {
	switch e.Code {
	case CodeRejected:
		return ton.ErrRejected
	case CodeNotActive:
		return ton.ErrNotActive
	case CodeNoFaucet:
		return ErrNoFaucet
	case CodeRateLimited:
		return ErrFaucetRateLimited
	}
	return nil
}

// Client is a ton.Chain served by another node. It is safe for
// concurrent use; each call is one request on its own stream.
type Client struct {
	net      *p2p.Network
	host     peer.ID
	timeout  time.Duration
	globalID int32
	faucet   bool
}

var _ ton.Chain = (*Client)(nil)

// ClientOption configures Dial.
type ClientOption func(*Client)

// WithTimeout bounds each call whose context has no earlier deadline
// (default DefaultTimeout).
func WithTimeout(d time.Duration) ClientOption { return func(c *Client) { c.timeout = d } }

// Dial connects to the chain served by host (which net must be able to
// reach) and reads its global ID.
func Dial(ctx context.Context, net *p2p.Network, host peer.ID, opts ...ClientOption) (*Client, error) {
	c := &Client{net: net, host: host, timeout: DefaultTimeout}
	for _, o := range opts {
		o(c)
	}
	resp, err := c.call(ctx, &request{Method: methodInfo})
	if err != nil {
		return nil, fmt.Errorf("remote: reach the chain host %s: %w", host, err)
	}
	c.globalID, c.faucet = resp.GlobalID, resp.Faucet
	return c, nil
}

// Host is the peer serving the chain.
func (c *Client) Host() peer.ID { return c.host }

// HasFaucet reports whether the host runs a faucet.
func (c *Client) HasFaucet() bool { return c.faucet }

// GlobalID implements ton.Chain.
func (c *Client) GlobalID() int32 { return c.globalID }

// call sends req and returns the host's answer, or its error.
func (c *Client) call(ctx context.Context, req *request) (*response, error) {
	req.V = Version
	raw, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("remote: encode %s request: %w", req.Method, err)
	}
	if len(raw) > MaxRequestSize {
		return nil, fmt.Errorf("remote: %s request is %d bytes, the limit is %d", req.Method, len(raw), MaxRequestSize)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	c.redial()
	out, err := c.net.Request(ctx, c.host, Protocol, raw, MaxResponseSize)
	if err != nil {
		if c.net.Host().Network().Connectedness(c.host) != network.Connected {
			return nil, fmt.Errorf("remote: %s: the chain host %s is not reachable (is it running, and is ton.emu_peer right?); the next call dials it again: %w", req.Method, c.host, err)
		}
		return nil, fmt.Errorf("remote: %s: %w", req.Method, err)
	}
	resp, err := decodeResponse(out)
	if err != nil {
		return nil, fmt.Errorf("remote: %s: host sent a bad %w", req.Method, err)
	}
	if e := resp.Err; e != nil {
		if e.Code == CodeGetMethod {
			return nil, &ton.ErrGetMethod{Method: req.GetMethod, ExitCode: e.ExitCode}
		}
		return nil, &RemoteError{Code: e.Code, Message: e.Message}
	}
	return resp, nil
}

// redial lets a call dial the host again although earlier dials failed.
// libp2p holds a peer whose dials failed in a backoff (5s, growing to
// 5min) and refuses to dial it until the backoff ends; for the chain
// host that would keep every call failing long after the host is back.
// Each call is one request that its caller waits for and bounds, so a
// call that finds no connection makes one real dial attempt instead.
func (c *Client) redial() {
	h := c.net.Host()
	if h.Network().Connectedness(c.host) == network.Connected {
		return
	}
	if sw, ok := h.Network().(*swarm.Swarm); ok {
		sw.Backoff().Clear(c.host)
	}
}

func rawAddr(addr *address.Address) (string, error) {
	if addr == nil || addr.Type() != address.StdAddress || addr.BitsLen() != 256 {
		return "", fmt.Errorf("remote: %v is not a standard 256-bit account address", addr)
	}
	return addr.StringRaw(), nil
}

// SendExternal implements ton.Chain.
func (c *Client) SendExternal(ctx context.Context, boc []byte) ([]byte, error) {
	ext, err := ton.ParseExternal(boc) // refuse locally what the host would
	if err != nil {
		return nil, err
	}
	resp, err := c.call(ctx, &request{Method: methodSendExternal, BOC: boc})
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(resp.Hash, ext.Hash) {
		return nil, fmt.Errorf("remote: host returned message hash %x, the message's is %x", resp.Hash, ext.Hash)
	}
	return resp.Hash, nil
}

// Account implements ton.Chain.
func (c *Client) Account(ctx context.Context, addr *address.Address) (*ton.AccountState, error) {
	a, err := rawAddr(addr)
	if err != nil {
		return nil, err
	}
	resp, err := c.call(ctx, &request{Method: methodAccount, Addr: a})
	if err != nil {
		return nil, err
	}
	if resp.Account == nil {
		return nil, errors.New("remote: account: host sent no account")
	}
	st, err := fromWireAccount(addr, resp.Account)
	if err != nil {
		return nil, fmt.Errorf("remote: account %s: host sent a bad account: %w", addr, err)
	}
	return st, nil
}

func fromWireAccount(addr *address.Address, w *wireAccount) (*ton.AccountState, error) {
	st := &ton.AccountState{Address: addr, Status: ton.AccountStatus(w.Status), LastTxLT: w.LastTxLT, LastTxHash: w.LastTxHash}
	switch st.Status {
	case ton.StatusNonExist, ton.StatusUninit, ton.StatusActive, ton.StatusFrozen:
	default:
		return nil, fmt.Errorf("unknown status %q", w.Status)
	}
	bal, ok := new(big.Int).SetString(w.Balance, 10)
	if !ok || bal.Sign() < 0 || len(w.Balance) > 40 {
		return nil, fmt.Errorf("balance %q", w.Balance)
	}
	st.Balance = bal
	if len(w.LastTxHash) != 0 && len(w.LastTxHash) != 32 {
		return nil, fmt.Errorf("last transaction hash of %d bytes", len(w.LastTxHash))
	}
	var err error
	if w.Code != nil {
		if st.Code, err = parseBOC(w.Code, MaxResponseSize); err != nil {
			return nil, fmt.Errorf("code: %w", err)
		}
	}
	if w.Data != nil {
		if st.Data, err = parseBOC(w.Data, MaxResponseSize); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
	}
	return st, nil
}

// Transactions implements ton.Chain, paging through the host's answers.
func (c *Client) Transactions(ctx context.Context, addr *address.Address, afterLT uint64, limit int) ([]*ton.Transaction, error) {
	return c.pages(ctx, addr, limit, func(a string, n int) *request {
		return &request{Method: methodTransactions, Addr: a, AfterLT: afterLT, Limit: n}
	}, func(tx *ton.Transaction) (inOrder, more bool) {
		if tx.LT <= afterLT {
			return false, false
		}
		afterLT = tx.LT
		return true, true
	})
}

// pages collects up to limit transactions of addr (0: all) from the
// host's pages: page builds the request for the next page of at most n,
// and take checks each transaction's order and advances the cursor,
// reporting whether more may follow.
func (c *Client) pages(ctx context.Context, addr *address.Address, limit int, page func(a string, n int) *request, take func(*ton.Transaction) (inOrder, more bool)) ([]*ton.Transaction, error) {
	a, err := rawAddr(addr)
	if err != nil {
		return nil, err
	}
	var out []*ton.Transaction
	for {
		n := MaxPage
		if limit > 0 && limit-len(out) < n {
			n = limit - len(out)
		}
		resp, err := c.call(ctx, page(a, n))
		if err != nil {
			return nil, err
		}
		for _, boc := range resp.Txs {
			tx, err := parseTx(addr.Workchain(), boc)
			if err != nil {
				return nil, fmt.Errorf("remote: transactions of %s: host sent a bad transaction: %w", addr, err)
			}
			inOrder, more := false, false
			if bytes.Equal(tx.Account.Data(), addr.Data()) {
				inOrder, more = take(tx)
			}
			if !inOrder {
				return nil, fmt.Errorf("remote: transactions of %s: host sent lt %d of %s out of order or of another account", addr, tx.LT, tx.Account)
			}
			out = append(out, tx)
			if !more {
				return out, nil
			}
		}
		if !resp.More || len(resp.Txs) == 0 || (limit > 0 && len(out) >= limit) {
			return out, nil
		}
	}
}

// RunGetMethod implements ton.Chain.
func (c *Client) RunGetMethod(ctx context.Context, addr *address.Address, method string, args ...any) ([]any, error) {
	a, err := rawAddr(addr)
	if err != nil {
		return nil, err
	}
	vals, err := toValues(args)
	if err != nil {
		return nil, fmt.Errorf("remote: get-method %q arguments: %w", method, err)
	}
	resp, err := c.call(ctx, &request{Method: methodGetMethod, Addr: a, GetMethod: method, Args: vals})
	if err != nil {
		return nil, err
	}
	res, err := fromValues(resp.Stack)
	if err != nil {
		return nil, fmt.Errorf("remote: get-method %q: bad result: %w", method, err)
	}
	return res, nil
}

// Faucet asks the host's testnet faucet to send nano nanoTON to to.
func (c *Client) Faucet(ctx context.Context, to *address.Address, nano *big.Int) error {
	a, err := rawAddr(to)
	if err != nil {
		return err
	}
	if nano == nil || nano.Sign() <= 0 {
		return fmt.Errorf("remote: faucet amount must be positive, got %v", nano)
	}
	_, err = c.call(ctx, &request{Method: methodFaucet, Addr: a, Amount: nano.String()})
	return err
}

// parseTx decodes a transaction BOC from the host. The decoders are
// third-party code walking untrusted bytes: a panic becomes an error.
func parseTx(wc int32, boc []byte) (tx *ton.Transaction, err error) {
	c, err := parseBOC(boc, maxPageBytes)
	if err != nil {
		return nil, err
	}
	return ton.FromCell(wc, c)
}

var (
	_ ton.HeadReader      = (*Client)(nil)
	_ ton.FeeEstimator    = (*Client)(nil)
	_ ton.GetMethodRunner = (*Client)(nil)
	_ ton.HistoryReader   = (*Client)(nil)
)

// Head implements ton.HeadReader.
func (c *Client) Head(ctx context.Context) (*ton.Head, error) {
	resp, err := c.call(ctx, &request{Method: methodHead})
	if err != nil {
		return nil, err
	}
	if resp.Head == nil {
		return nil, errors.New("remote: head: host sent no head")
	}
	h := resp.Head
	return &ton.Head{Seqno: h.Seqno, Now: h.Now, LT: h.LT, RootHash: h.RootHash, FileHash: h.FileHash}, nil
}

// EstimateExternal implements ton.FeeEstimator.
func (c *Client) EstimateExternal(ctx context.Context, boc []byte, ignoreSignature bool) (*ton.Fees, error) {
	if _, err := ton.ParseExternal(boc); err != nil {
		return nil, err
	}
	resp, err := c.call(ctx, &request{Method: methodEstimate, BOC: boc, IgnoreSig: ignoreSignature})
	if err != nil {
		return nil, err
	}
	if resp.Fees == nil {
		return nil, errors.New("remote: estimate: host sent no fees")
	}
	f := &ton.Fees{}
	for _, p := range []struct {
		dst **big.Int
		s   string
	}{{&f.InFwdFee, resp.Fees.InFwd}, {&f.StorageFee, resp.Fees.Storage}, {&f.GasFee, resp.Fees.Gas}, {&f.FwdFee, resp.Fees.Fwd}} {
		n, ok := new(big.Int).SetString(p.s, 10)
		if !ok || n.Sign() < 0 || len(p.s) > 40 {
			return nil, fmt.Errorf("remote: estimate: host sent a bad fee %q", p.s)
		}
		*p.dst = n
	}
	return f, nil
}

// RunGetMethodResult implements ton.GetMethodRunner.
func (c *Client) RunGetMethodResult(ctx context.Context, addr *address.Address, method string, args ...any) (*ton.GetMethodResult, error) {
	a, err := rawAddr(addr)
	if err != nil {
		return nil, err
	}
	vals, err := toValues(args)
	if err != nil {
		return nil, fmt.Errorf("remote: get-method %q arguments: %w", method, err)
	}
	resp, err := c.call(ctx, &request{Method: methodGetMethod, Addr: a, GetMethod: method, Args: vals})
	var gm *ton.ErrGetMethod
	if errors.As(err, &gm) {
		return &ton.GetMethodResult{Stack: []any{}, ExitCode: gm.ExitCode}, nil
	}
	if err != nil {
		return nil, err
	}
	res, err := fromValues(resp.Stack)
	if err != nil {
		return nil, fmt.Errorf("remote: get-method %q: bad result: %w", method, err)
	}
	if res == nil {
		res = []any{}
	}
	return &ton.GetMethodResult{Stack: res, GasUsed: resp.Gas}, nil
}

// TransactionsBefore implements ton.HistoryReader, paging through the
// host's answers.
func (c *Client) TransactionsBefore(ctx context.Context, addr *address.Address, fromLT uint64, limit int) ([]*ton.Transaction, error) {
	return c.pages(ctx, addr, limit, func(a string, n int) *request {
		return &request{Method: methodTxsBefore, Addr: a, FromLT: fromLT, Limit: n}
	}, func(tx *ton.Transaction) (inOrder, more bool) {
		if fromLT != 0 && tx.LT > fromLT {
			return false, false
		}
		if tx.LT <= 1 { // nothing below; 0 would mean "from the newest"
			return true, false
		}
		fromLT = tx.LT - 1
		return true, true
	})
}
