package market

import (
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/market/onchain"
)

// Routes registers the market routes of the local API with handle.
func (s *Service) Routes(handle func(pattern string, h http.Handler)) {
	handle("GET /api/v1/market/auctions", http.HandlerFunc(s.handleAuctions))
	handle("POST /api/v1/market/auctions", http.HandlerFunc(s.handleStart))
	handle("GET /api/v1/market/assets/{asset}", http.HandlerFunc(s.handleShow))
	handle("POST /api/v1/market/bids", http.HandlerFunc(s.handleBid))
	handle("POST /api/v1/market/auctions/{asset}/cancel", http.HandlerFunc(s.handleCancel))
	handle("POST /api/v1/market/auctions/{asset}/settle", http.HandlerFunc(s.handleSettle))
	handle("POST /api/v1/market/buy-number", http.HandlerFunc(s.handleBuyNumber))
	handle("GET /api/v1/market/mine", http.HandlerFunc(s.handleMine))
	handle("POST /api/v1/market/transfer", http.HandlerFunc(s.handleTransfer))
	handle("GET /api/v1/market/resolve/{query}", http.HandlerFunc(s.handleResolve))
	handle("POST /api/v1/market/mint", http.HandlerFunc(s.handleMint))
	handle("POST /api/v1/market/codes/request", http.HandlerFunc(s.handleCodeRequest))
	handle("POST /api/v1/market/codes/verify", http.HandlerFunc(s.handleCodeVerify))
	handle("GET /api/v1/market/codes", http.HandlerFunc(s.handleCodes))
}

// StartRequest is the body of POST /api/v1/market/auctions.
type StartRequest struct {
	Asset     string `json:"asset"`               // "@name" or "+888 XXXX XXXX"
	Min       string `json:"min"`                 // minimum first bid, TON
	Step      uint8  `json:"step,omitempty"`      // percent, 1-100 (default 5)
	Duration  string `json:"duration,omitempty"`  // e.g. "7d", "24h" (default 7d)
	Extension string `json:"extension,omitempty"` // e.g. "1h" (default 1h, at most 7d)
	BuyNow    string `json:"buy_now,omitempty"`   // TON; a bid of this much ends the auction at once
}

// BidRequest is the body of POST /api/v1/market/bids.
type BidRequest struct {
	Asset  string `json:"asset"`
	Amount string `json:"amount"` // TON
}

// TransferRequest is the body of POST /api/v1/market/transfer.
type TransferRequest struct {
	Asset string `json:"asset"`
	To    string `json:"to"` // TON address
}

// MintRequest is the body of POST /api/v1/market/mint.
type MintRequest struct {
	Asset string `json:"asset"`
	Owner string `json:"owner,omitempty"` // TON address; default: this node's wallet
}

// CodeRequestBody is the body of POST /api/v1/market/codes/request.
type CodeRequestBody struct {
	Asset string `json:"asset"`
}

// CodeVerifyRequest is the body of POST /api/v1/market/codes/verify.
type CodeVerifyRequest struct {
	ID   string `json:"id"`
	Code string `json:"code"`
}

// DefaultDuration is an auction's duration when the request names none.
const DefaultDuration = 7 * 24 * time.Hour

// ParseDuration reads a duration: a Go duration ("90s", "1h30m") or whole
// days ("7d"), in whole seconds.
func ParseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	var d time.Duration
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("%q: use a duration like 90s, 1h or 7d", v)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("%q: use a duration like 90s, 1h or 7d", v)
		}
	}
	if d < 0 || d%time.Second != 0 {
		return 0, fmt.Errorf("%q: use a positive whole number of seconds", v)
	}
	return d, nil
}

func writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrBadRequest), errors.Is(err, wallet.ErrBadAmount):
		apiutil.BadRequest(w, err.Error())
	case errors.Is(err, ErrNotFound):
		apiutil.WriteError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrForbidden):
		apiutil.WriteError(w, http.StatusForbidden, "forbidden", err.Error())
	case errors.Is(err, ErrCodeWrong):
		apiutil.WriteError(w, http.StatusForbidden, "wrong_code", err.Error())
	case errors.Is(err, ErrCodeUsed):
		apiutil.WriteError(w, http.StatusConflict, "code_used", err.Error())
	case errors.Is(err, ErrCodeExpired):
		apiutil.WriteError(w, http.StatusGone, "code_expired", err.Error())
	case errors.Is(err, ErrConflict):
		apiutil.WriteError(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, wallet.ErrInsufficientBalance):
		apiutil.WriteError(w, http.StatusPaymentRequired, "insufficient_balance", err.Error())
	case errors.Is(err, ErrChainNotReady):
		apiutil.WriteError(w, http.StatusServiceUnavailable, "chain_not_ready", err.Error()+": wait a moment, or check that the chain host is running")
	case errors.Is(err, ErrUndelivered):
		apiutil.WriteError(w, http.StatusBadGateway, "undelivered", err.Error())
	default:
		apiutil.WriteError(w, http.StatusBadGateway, "chain_error", err.Error())
	}
}

func parseAsset(field, v string) (onchain.Asset, error) {
	a, err := onchain.ParseAsset(v)
	if err != nil {
		return a, fmt.Errorf("%w: %s: %w", ErrBadRequest, field, err)
	}
	return a, nil
}

func parseTON(field, v string, required bool) (*big.Int, error) {
	if v == "" {
		if required {
			return nil, fmt.Errorf("%w: %s: give an amount in TON, e.g. \"12.5\"", ErrBadRequest, field)
		}
		return nil, nil
	}
	n, err := wallet.ParseTON(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadRequest, field, err)
	}
	if n.Sign() <= 0 {
		return nil, fmt.Errorf("%w: %s must be more than zero", ErrBadRequest, field)
	}
	return n, nil
}

func (s *Service) handleAuctions(w http.ResponseWriter, _ *http.Request) {
	apiutil.WriteJSON(w, http.StatusOK, s.Auctions())
}

func (s *Service) handleShow(w http.ResponseWriter, r *http.Request) {
	a, err := parseAsset("asset", r.PathValue("asset"))
	if err != nil {
		writeErr(w, err)
		return
	}
	info, err := s.Show(r.Context(), a)
	respond(w, info, err)
}

// params reads a StartRequest into auction parameters.
func (req *StartRequest) params() (onchain.AuctionParams, error) {
	var p onchain.AuctionParams
	var err error
	if p.MinBid, err = parseTON("min", req.Min, true); err != nil {
		return p, err
	}
	if p.MaxBid, err = parseTON("buy_now", req.BuyNow, false); err != nil {
		return p, err
	}
	p.StepPercent = req.Step
	p.Duration = DefaultDuration
	if req.Duration != "" {
		if p.Duration, err = ParseDuration(req.Duration); err != nil {
			return p, fmt.Errorf("%w: duration: %w", ErrBadRequest, err)
		}
	}
	if req.Extension != "" {
		if p.Extension, err = ParseDuration(req.Extension); err != nil {
			return p, fmt.Errorf("%w: extension: %w", ErrBadRequest, err)
		}
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return p, nil
}

func (s *Service) handleStart(w http.ResponseWriter, r *http.Request) {
	var req StartRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	a, err := parseAsset("asset", req.Asset)
	if err != nil {
		writeErr(w, err)
		return
	}
	p, err := req.params()
	if err != nil {
		writeErr(w, err)
		return
	}
	info, err := s.StartAuction(r.Context(), a, p)
	respond(w, info, err)
}

func (s *Service) handleBid(w http.ResponseWriter, r *http.Request) {
	var req BidRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	a, err := parseAsset("asset", req.Asset)
	if err != nil {
		writeErr(w, err)
		return
	}
	amount, err := parseTON("amount", req.Amount, true)
	if err != nil {
		writeErr(w, err)
		return
	}
	info, err := s.Bid(r.Context(), a, amount)
	respond(w, info, err)
}

func (s *Service) assetAction(w http.ResponseWriter, r *http.Request, act func(*http.Request, onchain.Asset) (*AssetInfo, error)) {
	a, err := parseAsset("asset", r.PathValue("asset"))
	if err != nil {
		writeErr(w, err)
		return
	}
	info, err := act(r, a)
	respond(w, info, err)
}

func (s *Service) handleCancel(w http.ResponseWriter, r *http.Request) {
	s.assetAction(w, r, func(r *http.Request, a onchain.Asset) (*AssetInfo, error) { return s.Cancel(r.Context(), a) })
}

func (s *Service) handleSettle(w http.ResponseWriter, r *http.Request) {
	s.assetAction(w, r, func(r *http.Request, a onchain.Asset) (*AssetInfo, error) { return s.Settle(r.Context(), a) })
}

func (s *Service) handleBuyNumber(w http.ResponseWriter, r *http.Request) {
	info, err := s.BuyNumber(r.Context())
	respond(w, info, err)
}

func (s *Service) handleMine(w http.ResponseWriter, r *http.Request) {
	list, err := s.Mine(r.Context())
	respond(w, list, err)
}

func (s *Service) handleTransfer(w http.ResponseWriter, r *http.Request) {
	var req TransferRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	a, err := parseAsset("asset", req.Asset)
	if err != nil {
		writeErr(w, err)
		return
	}
	to, err := wallet.ParseAddress(req.To)
	if err != nil {
		writeErr(w, fmt.Errorf("%w: to: %w", ErrBadRequest, err))
		return
	}
	info, err := s.Transfer(r.Context(), a, to)
	respond(w, info, err)
}

func (s *Service) handleResolve(w http.ResponseWriter, r *http.Request) {
	res, err := s.Resolve(r.Context(), r.PathValue("query"))
	respond(w, res, err)
}

func (s *Service) handleMint(w http.ResponseWriter, r *http.Request) {
	var req MintRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	if !s.cfg.Registry {
		writeErr(w, fmt.Errorf("%w: only the registry node mints; this node is not it (market registry role is off)", ErrForbidden))
		return
	}
	a, err := parseAsset("asset", req.Asset)
	if err != nil {
		writeErr(w, err)
		return
	}
	var owner *address.Address
	if req.Owner != "" {
		if owner, err = wallet.ParseAddress(req.Owner); err != nil {
			writeErr(w, fmt.Errorf("%w: owner: %w", ErrBadRequest, err))
			return
		}
	}
	info, err := s.Mint(r.Context(), a, owner)
	respond(w, info, err)
}

func (s *Service) handleCodeRequest(w http.ResponseWriter, r *http.Request) {
	var req CodeRequestBody
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	a, err := parseAsset("asset", req.Asset)
	if err != nil {
		writeErr(w, err)
		return
	}
	res, err := s.RequestCode(r.Context(), a)
	respond(w, res, err)
}

func (s *Service) handleCodeVerify(w http.ResponseWriter, r *http.Request) {
	var req CodeVerifyRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	if req.ID == "" || req.Code == "" {
		writeErr(w, fmt.Errorf("%w: give the id the code request returned and the code the owner read", ErrBadRequest))
		return
	}
	res, err := s.VerifyCode(r.Context(), req.ID, req.Code)
	respond(w, res, err)
}

func (s *Service) handleCodes(w http.ResponseWriter, _ *http.Request) {
	list, err := s.Codes()
	respond(w, list, err)
}

// respond writes v as JSON, or err as the error answer it maps to.
func respond(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, v)
}
