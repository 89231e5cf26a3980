package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/xssnick/tonutils-go/address"
)

// DefaultTimeout bounds one request on the host, and one call on the
// client when its context has no earlier deadline.
const DefaultTimeout = 30 * time.Second

// FaucetFunc sends nano nanoTON to to from a testnet faucet.
type FaucetFunc func(ctx context.Context, to *address.Address, nano *big.Int) error

// Server serves a chain on a Network.
type Server struct {
	net       *p2p.Network
	chain     ton.Chain
	log       *slog.Logger
	faucet    FaucetFunc
	faucetMax *big.Int
	limit     *limiter
	timeout   time.Duration
}

// ServerOption configures Serve.
type ServerOption func(*Server)

// WithServerLogger sends the server's logs to l.
func WithServerLogger(l *slog.Logger) ServerOption { return func(s *Server) { s.log = l } }

// WithFaucet lets clients ask for testnet funds: f is called for faucet
// requests of at most max nanoTON each. Without it faucet requests get
// CodeNoFaucet. TESTNET ONLY.
func WithFaucet(f FaucetFunc, max *big.Int) ServerOption {
	return func(s *Server) { s.faucet, s.faucetMax = f, max }
}

// WithFaucetLimit lets each requesting peer make burst faucet requests,
// then one more every every (default DefaultFaucetBurst and
// DefaultFaucetEvery); a request over it is refused with CodeRateLimited.
func WithFaucetLimit(burst int, every time.Duration) ServerOption {
	return func(s *Server) { s.limit = newLimiter(max(burst, 1), every) }
}

// WithServerTimeout bounds each request (default DefaultTimeout).
func WithServerTimeout(d time.Duration) ServerOption { return func(s *Server) { s.timeout = d } }

// Serve answers Protocol requests on net from chain until Stop.
func Serve(net *p2p.Network, chain ton.Chain, opts ...ServerOption) *Server {
	s := &Server{net: net, chain: chain, log: slog.New(slog.DiscardHandler), timeout: DefaultTimeout,
		limit: newLimiter(DefaultFaucetBurst, DefaultFaucetEvery)}
	for _, o := range opts {
		o(s)
	}
	net.HandleRequest(Protocol, s.handle, MaxRequestSize, s.timeout)
	return s
}

// Stop stops serving; requests in progress finish.
func (s *Server) Stop() { s.net.RemoveHandler(Protocol) }

// handle answers every request, bad ones with an error response; it
// fails (resetting the stream) only if the answer cannot be encoded.
func (s *Server) handle(ctx context.Context, from peer.ID, raw []byte) ([]byte, error) {
	resp := &response{V: Version}
	req, err := decodeRequest(raw)
	if err != nil {
		s.log.Debug("refusing malformed chain request", "peer", from, "err", err)
		resp.Err = &wireError{Code: CodeBadRequest, Message: err.Error()}
	} else if err := s.call(ctx, from, req, resp); err != nil {
		resp.Err = toWireError(err)
		s.log.Debug("chain request failed", "peer", from, "method", req.Method, "err", err)
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("remote: encode response: %w", err)
	}
	if len(out) > MaxResponseSize {
		out, _ = json.Marshal(&response{V: Version, Err: &wireError{Code: CodeFailed, Message: "response exceeds the size limit"}})
	}
	return out, nil
}

// badRequest marks an error as the caller's fault.
type badRequest struct{ error }

// rateLimited marks a request over the requester's faucet allowance.
type rateLimited struct{ error }

func (s *Server) call(ctx context.Context, from peer.ID, req *request, resp *response) error {
	var addr *address.Address
	if req.Addr != "" {
		addr, _ = parseAddr(req.Addr) // checked by decodeRequest
	}
	switch req.Method {
	case methodInfo:
		resp.GlobalID, resp.Faucet = s.chain.GlobalID(), s.faucet != nil
	case methodSendExternal:
		hash, err := s.chain.SendExternal(ctx, req.BOC)
		if err != nil {
			return err
		}
		resp.Hash = hash
	case methodAccount:
		st, err := s.chain.Account(ctx, addr)
		if err != nil {
			return err
		}
		resp.Account = toWireAccount(st)
	case methodTransactions:
		return s.transactions(ctx, addr, req, resp)
	case methodGetMethod:
		return s.getMethod(ctx, addr, req, resp)
	case methodHead:
		hr, ok := s.chain.(ton.HeadReader)
		if !ok {
			return errUnsupported
		}
		h, err := hr.Head(ctx)
		if err != nil {
			return err
		}
		resp.Head = &wireHead{Seqno: h.Seqno, Now: h.Now, LT: h.LT, RootHash: h.RootHash, FileHash: h.FileHash}
	case methodEstimate:
		fe, ok := s.chain.(ton.FeeEstimator)
		if !ok {
			return errUnsupported
		}
		f, err := fe.EstimateExternal(ctx, req.BOC, req.IgnoreSig)
		if err != nil {
			return err
		}
		resp.Fees = &wireFees{InFwd: f.InFwdFee.String(), Storage: f.StorageFee.String(), Gas: f.GasFee.String(), Fwd: f.FwdFee.String()}
	case methodTxsBefore:
		return s.transactionsBefore(ctx, addr, req, resp)
	case methodFaucet:
		if s.faucet == nil {
			return errNoFaucet
		}
		amount, _ := parseAmount(req.Amount)
		if s.faucetMax != nil && amount.Cmp(s.faucetMax) > 0 {
			return badRequest{fmt.Errorf("faucet amount %s nanoTON is over this host's limit of %s", amount, s.faucetMax)}
		}
		if ok, wait := s.limit.allow(from); !ok {
			return rateLimited{fmt.Errorf("too many faucet requests from this peer: try again in %s", wait.Round(time.Second))}
		}
		return s.faucet(ctx, addr, amount)
	}
	return nil
}

var (
	errNoFaucet    = errors.New("this host runs no faucet")
	errUnsupported = errors.New("this host's chain does not offer this method")
)

// getMethod answers with the result's stack and gas; a method that ran and
// failed is an error carrying its exit code.
func (s *Server) getMethod(ctx context.Context, addr *address.Address, req *request, resp *response) error {
	args, _ := fromValues(req.Args) // checked by decodeRequest
	var res *ton.GetMethodResult
	if gr, ok := s.chain.(ton.GetMethodRunner); ok {
		r, err := gr.RunGetMethodResult(ctx, addr, req.GetMethod, args...)
		if err != nil {
			return err
		}
		if r.ExitCode != 0 && r.ExitCode != 1 {
			return &ton.ErrGetMethod{Method: req.GetMethod, ExitCode: r.ExitCode}
		}
		res = r
	} else {
		stack, err := s.chain.RunGetMethod(ctx, addr, req.GetMethod, args...)
		if err != nil {
			return err
		}
		res = &ton.GetMethodResult{Stack: stack}
	}
	var err error
	if resp.Stack, err = toValues(res.Stack); err != nil {
		return fmt.Errorf("encode get-method result: %w", err)
	}
	resp.Gas = res.GasUsed
	return nil
}

// transactionsBefore answers one page, newest first; More says the
// client may ask again from below the last one.
func (s *Server) transactionsBefore(ctx context.Context, addr *address.Address, req *request, resp *response) error {
	hr, ok := s.chain.(ton.HistoryReader)
	if !ok {
		return errUnsupported
	}
	want := pageSize(req)
	txs, err := hr.TransactionsBefore(ctx, addr, req.FromLT, want+1)
	if err != nil {
		return err
	}
	fillPage(resp, txs, want)
	return nil
}

// pageSize is how many transactions a page of req holds at most.
func pageSize(req *request) int {
	if req.Limit == 0 {
		return MaxPage
	}
	return req.Limit
}

// fillPage answers with up to want of txs (the chain was asked for one
// more, to tell whether more follow), within maxPageBytes.
func fillPage(resp *response, txs []*ton.Transaction, want int) {
	if len(txs) > want {
		txs, resp.More = txs[:want], true
	}
	size := 0
	for i, tx := range txs {
		if i > 0 && size+len(tx.BOC) > maxPageBytes {
			resp.More = true
			return
		}
		size += len(tx.BOC)
		resp.Txs = append(resp.Txs, tx.BOC)
	}
}

func (s *Server) transactions(ctx context.Context, addr *address.Address, req *request, resp *response) error {
	want := pageSize(req)
	txs, err := s.chain.Transactions(ctx, addr, req.AfterLT, want+1)
	if err != nil {
		return err
	}
	fillPage(resp, txs, want)
	return nil
}

func toWireAccount(st *ton.AccountState) *wireAccount {
	w := &wireAccount{Status: string(st.Status), Balance: st.Balance.String(), LastTxLT: st.LastTxLT, LastTxHash: st.LastTxHash}
	if st.Code != nil {
		w.Code = st.Code.ToBOC()
	}
	if st.Data != nil {
		w.Data = st.Data.ToBOC()
	}
	return w
}

func toWireError(err error) *wireError {
	msg := err.Error()
	if len(msg) > maxErrorText {
		msg = msg[:maxErrorText]
	}
	var gm *ton.ErrGetMethod
	var bad badRequest
	var limited rateLimited
	switch {
	case errors.As(err, &bad):
		return &wireError{Code: CodeBadRequest, Message: msg}
	case errors.As(err, &limited):
		return &wireError{Code: CodeRateLimited, Message: msg}
	case errors.Is(err, ton.ErrRejected):
		return &wireError{Code: CodeRejected, Message: msg}
	case errors.Is(err, ton.ErrNotActive):
		return &wireError{Code: CodeNotActive, Message: msg}
	case errors.As(err, &gm):
		return &wireError{Code: CodeGetMethod, Message: msg, ExitCode: gm.ExitCode}
	case errors.Is(err, errNoFaucet):
		return &wireError{Code: CodeNoFaucet, Message: msg}
	default:
		return &wireError{Code: CodeFailed, Message: msg}
	}
}
