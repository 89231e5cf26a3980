package service

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/ledger/ton/remote"
	"github.com/tonmesh/tonmesh/ledger/wallet"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// Routes registers the ledger's API routes with handle.
func (s *Service) Routes(handle func(pattern string, h http.Handler)) {
	handle("GET /api/v1/ledger/balance", http.HandlerFunc(s.handleBalance))
	handle("POST /api/v1/ledger/send", http.HandlerFunc(s.handleSend))
	handle("GET /api/v1/ledger/history", http.HandlerFunc(s.handleHistory))
	handle("GET /api/v1/ledger/deposits", http.HandlerFunc(s.handleDeposits))
	handle("POST /api/v1/ledger/faucet", http.HandlerFunc(s.handleFaucet))
	handle("GET /api/v1/ledger/channels", http.HandlerFunc(s.handleChannels))
	handle("POST /api/v1/ledger/channels", http.HandlerFunc(s.handleOpenChannel))
	handle("POST /api/v1/ledger/channels/{id}/{action}", http.HandlerFunc(s.handleChannelAction))
	handle("GET /api/v1/ledger/journal", http.HandlerFunc(s.handleJournal))
	handle("GET /api/v1/ledger/anchors", http.HandlerFunc(s.handleAnchors))
	handle("POST /api/v1/ledger/anchors", http.HandlerFunc(s.handleAnchorNow))
	handle("GET /api/v1/ledger/verify/{seq}", http.HandlerFunc(s.handleVerify))
}

// OpenChannelRequest is the body of POST /api/v1/ledger/channels.
type OpenChannelRequest struct {
	Peer     string `json:"peer"`   // the payee's peer ID
	Amount   string `json:"amount"` // deposit, TON
	TimeoutS int64  `json:"timeout_s,omitempty"`
}

// ChannelActionRequest is the body of POST /api/v1/ledger/channels/{id}/{pay,topup,redeem,close,finalize}.
type ChannelActionRequest struct {
	Amount string `json:"amount,omitempty"` // TON, for pay and topup
}

// ChannelActionResult answers a channel action.
type ChannelActionResult struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	Amount Amount `json:"amount"` // cumulative paid (pay), new deposit (topup) or redeemed voucher (redeem)
}

func (s *Service) handleChannels(w http.ResponseWriter, r *http.Request) {
	list, err := s.Channels(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, list)
}

func (s *Service) handleOpenChannel(w http.ResponseWriter, r *http.Request) {
	var req OpenChannelRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	p, err := peer.Decode(req.Peer)
	if err != nil {
		apiutil.BadRequest(w, fmt.Sprintf("peer: %q is not a peer ID (the payee's `tonmesh id` shows it)", req.Peer))
		return
	}
	nano, ok := parseAmount(w, "amount", req.Amount)
	if !ok {
		return
	}
	if req.TimeoutS < 0 {
		apiutil.BadRequest(w, "timeout_s: must be positive")
		return
	}
	ch, err := s.OpenChannel(r.Context(), p, nano, time.Duration(req.TimeoutS)*time.Second)
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, ChannelActionResult{ID: s.friendly(ch), Action: "open", Amount: amount(nano)})
}

func (s *Service) handleChannelAction(w http.ResponseWriter, r *http.Request) {
	ch, err := wallet.ParseAddress(r.PathValue("id"))
	if err != nil {
		apiutil.BadRequest(w, fmt.Sprintf("channel id: %v (use the id from `tonmesh ledger channels`)", err))
		return
	}
	var req ChannelActionRequest
	if r.ContentLength != 0 && !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	action := r.PathValue("action")
	res := ChannelActionResult{ID: s.friendly(ch), Action: action, Amount: amount(nil)}
	switch action {
	case "pay":
		nano, ok := parseAmount(w, "amount", req.Amount)
		if !ok {
			return
		}
		var cum *big.Int
		if cum, err = s.Pay(r.Context(), ch, nano); err == nil {
			res.Amount = amount(cum)
		}
	case "topup":
		nano, ok := parseAmount(w, "amount", req.Amount)
		if !ok {
			return
		}
		var dep *big.Int
		if dep, err = s.TopUp(r.Context(), ch, nano); err == nil {
			res.Amount = amount(dep)
		}
	case "redeem":
		var got *big.Int
		if got, err = s.Redeem(r.Context(), ch); err == nil {
			res.Amount = amount(got)
		}
	case "close":
		err = s.CloseChannel(r.Context(), ch)
	case "finalize":
		err = s.FinalizeChannel(r.Context(), ch)
	default:
		apiutil.WriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("unknown channel action %q (use pay, topup, redeem, close or finalize)", action))
		return
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, res)
}

// Amount is a nanoTON amount with its TON rendering.
type Amount struct {
	Nano string `json:"nano"`
	TON  string `json:"ton"`
}

func amount(n *big.Int) Amount {
	if n == nil {
		n = new(big.Int)
	}
	return Amount{Nano: n.String(), TON: wallet.FormatTON(n)}
}

// Balance is the answer of GET /api/v1/ledger/balance.
type Balance struct {
	Address    string `json:"address"`
	AddressRaw string `json:"address_raw"`
	Status     string `json:"status"`
	Balance    Amount `json:"balance"`
	Deposits   Amount `json:"deposits_total"`
	Network    string `json:"network"`
}

// SendRequest is the body of POST /api/v1/ledger/send.
type SendRequest struct {
	To      string `json:"to"`
	Amount  string `json:"amount"` // TON, up to 9 decimals
	Comment string `json:"comment,omitempty"`
}

// SendResult is the answer of POST /api/v1/ledger/send.
type SendResult struct {
	MsgHash  string  `json:"msg_hash"`
	TxHash   string  `json:"tx_hash"`
	TxLT     uint64  `json:"tx_lt"`
	Seqno    uint32  `json:"seqno"`
	Deployed bool    `json:"deployed"`
	Fees     Amount  `json:"fees"`
	Seconds  float64 `json:"confirm_seconds"`
}

// FaucetRequest is the body of POST /api/v1/ledger/faucet.
type FaucetRequest struct {
	Amount string `json:"amount"` // TON
}

// HistoryEntry is one transaction of the wallet.
type HistoryEntry struct {
	Hash    string    `json:"hash"`
	LT      uint64    `json:"lt"`
	Time    time.Time `json:"time"`
	In      *MsgView  `json:"in,omitempty"`
	Out     []MsgView `json:"out,omitempty"`
	Fees    Amount    `json:"fees"`
	Success bool      `json:"success"`
}

// MsgView is a message as the API shows it.
type MsgView struct {
	Kind    string `json:"kind"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Value   Amount `json:"value"`
	Comment string `json:"comment,omitempty"`
}

// DepositView is one detected deposit.
type DepositView struct {
	TxHash  string    `json:"tx_hash"`
	Time    time.Time `json:"time"`
	From    string    `json:"from"`
	Amount  Amount    `json:"amount"`
	Comment string    `json:"comment,omitempty"`
}

// writeErr maps service errors to HTTP answers.
func writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrUnavailable):
		apiutil.WriteError(w, http.StatusNotImplemented, "unavailable", err.Error())
	case errors.Is(err, ErrChainNotReady):
		apiutil.WriteError(w, http.StatusServiceUnavailable, "chain_not_ready", err.Error()+": wait a moment, or check that the chain host is running")
	case errors.Is(err, ErrChannelRefused):
		apiutil.WriteError(w, http.StatusConflict, "refused", err.Error())
	case errors.Is(err, ErrUnknownChannel):
		apiutil.WriteError(w, http.StatusNotFound, "unknown_channel", err.Error())
	case errors.Is(err, ErrNotPayer):
		apiutil.WriteError(w, http.StatusForbidden, "not_payer", err.Error())
	case errors.Is(err, ErrChannelClosing):
		apiutil.WriteError(w, http.StatusConflict, "closing", err.Error())
	case errors.Is(err, ErrNoFaucet):
		apiutil.WriteError(w, http.StatusBadRequest, "no_faucet", err.Error())
	case errors.Is(err, remote.ErrFaucetRateLimited):
		apiutil.WriteError(w, http.StatusTooManyRequests, "rate_limited", err.Error())
	case errors.Is(err, wallet.ErrInsufficientBalance):
		apiutil.WriteError(w, http.StatusPaymentRequired, "insufficient_balance", err.Error())
	case errors.Is(err, wallet.ErrBadAmount), errors.Is(err, ErrFaucetLimit), isRemoteBadRequest(err):
		apiutil.BadRequest(w, err.Error())
	default:
		apiutil.WriteError(w, http.StatusBadGateway, "chain_error", err.Error())
	}
}

func (s *Service) handleBalance(w http.ResponseWriter, r *http.Request) {
	wl, err := s.Wallet()
	if err != nil {
		writeErr(w, err)
		return
	}
	if q := r.URL.Query().Get("address"); q != "" {
		s.writeAccount(w, r, q)
		return
	}
	st, err := s.chain.Account(r.Context(), wl.Address())
	if err != nil {
		writeErr(w, err)
		return
	}
	_, total, err := wl.Deposits().Cursor()
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, Balance{
		Address:    s.friendly(wl.Address()),
		AddressRaw: identity.FormatRaw(wl.Address()),
		Status:     string(st.Status),
		Balance:    amount(st.Balance),
		Deposits:   amount(total),
		Network:    string(s.cfg.Network),
	})
}

// writeAccount answers with any account's state, as the chain shows it.
func (s *Service) writeAccount(w http.ResponseWriter, r *http.Request, addr string) {
	a, err := wallet.ParseAddress(addr)
	if err != nil {
		apiutil.BadRequest(w, fmt.Sprintf("address: %v", err))
		return
	}
	st, err := s.chain.Account(r.Context(), a)
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, Balance{
		Address: s.friendly(a), AddressRaw: identity.FormatRaw(a), Status: string(st.Status),
		Balance: amount(st.Balance), Deposits: amount(nil), Network: string(s.cfg.Network),
	})
}

func parseAmount(w http.ResponseWriter, field, s string) (*big.Int, bool) {
	n, err := wallet.ParseTON(s)
	if err != nil {
		apiutil.BadRequest(w, fmt.Sprintf("%s: %v (example: \"1.5\" for 1.5 TON)", field, err))
		return nil, false
	}
	if n.Sign() <= 0 {
		apiutil.BadRequest(w, field+": must be more than 0")
		return nil, false
	}
	return n, true
}

func (s *Service) handleSend(w http.ResponseWriter, r *http.Request) {
	var req SendRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	to, err := wallet.ParseAddress(req.To)
	if err != nil {
		apiutil.BadRequest(w, fmt.Sprintf("to: %v", err))
		return
	}
	nano, ok := parseAmount(w, "amount", req.Amount)
	if !ok {
		return
	}
	wl, err := s.Wallet()
	if err != nil {
		writeErr(w, err)
		return
	}
	start := time.Now()
	rc, err := wl.Send(r.Context(), to, nano, req.Comment)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.record(r.Context(), journal.KindWithdrawal, fmt.Sprintf("send:%x", rc.MsgHash), nano, to.StringRaw())
	apiutil.WriteJSON(w, http.StatusOK, SendResult{
		MsgHash: fmt.Sprintf("%x", rc.MsgHash), TxHash: fmt.Sprintf("%x", rc.TxHash), TxLT: rc.TxLT,
		Seqno: rc.Seqno, Deployed: rc.Deployed, Fees: amount(rc.Fees), Seconds: time.Since(start).Seconds(),
	})
}

func (s *Service) handleFaucet(w http.ResponseWriter, r *http.Request) {
	var req FaucetRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	nano, ok := parseAmount(w, "amount", req.Amount)
	if !ok {
		return
	}
	if err := s.Faucet(r.Context(), nano); err != nil {
		writeErr(w, err)
		return
	}
	s.handleBalance(w, r)
}

func (s *Service) handleHistory(w http.ResponseWriter, r *http.Request) {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			apiutil.BadRequest(w, "limit: use a number from 1 to 1000")
			return
		}
		limit = n
	}
	var before uint64
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			apiutil.BadRequest(w, "before: use the logical time (lt) of a transaction; the page holds older ones")
			return
		}
		before = n
	}
	wl, err := s.Wallet()
	if err != nil {
		writeErr(w, err)
		return
	}
	txs, err := historyPage(r.Context(), s.chain, wl.Address(), before, limit)
	if err != nil {
		writeErr(w, err)
		return
	}
	out := []HistoryEntry{}
	for _, tx := range txs {
		out = append(out, s.historyEntry(tx))
	}
	apiutil.WriteJSON(w, http.StatusOK, out)
}

// historyPage returns up to limit transactions of addr older than before
// (0: from the newest), newest first. A chain that reads history backwards
// (ton.HistoryReader: emu, remote) is asked for exactly that page; others
// are read whole.
func historyPage(ctx context.Context, chain ton.Chain, addr *address.Address, before uint64, limit int) ([]*ton.Transaction, error) {
	if before == 1 {
		return nil, nil
	}
	if hr, ok := chain.(ton.HistoryReader); ok {
		from := uint64(0)
		if before > 0 {
			from = before - 1
		}
		return hr.TransactionsBefore(ctx, addr, from, limit)
	}
	all, err := chain.Transactions(ctx, addr, 0, 0)
	if err != nil {
		return nil, err
	}
	var out []*ton.Transaction
	for i := len(all) - 1; i >= 0 && len(out) < limit; i-- {
		if before == 0 || all[i].LT < before {
			out = append(out, all[i])
		}
	}
	return out, nil
}

func (s *Service) historyEntry(tx *ton.Transaction) HistoryEntry {
	e := HistoryEntry{Hash: fmt.Sprintf("%x", tx.Hash), LT: tx.LT, Time: time.Unix(int64(tx.Now), 0).UTC(), Fees: amount(tx.TotalFees), Success: tx.Success}
	if tx.In != nil {
		v := s.msgView(tx.In)
		e.In = &v
	}
	for _, m := range tx.Out {
		e.Out = append(e.Out, s.msgView(m))
	}
	return e
}

func (s *Service) msgView(m *ton.Message) MsgView {
	v := MsgView{Kind: string(m.Kind), Value: amount(m.Value), Comment: m.Comment}
	if m.Src != nil {
		v.From = s.friendly(m.Src)
	}
	if m.Dst != nil {
		v.To = s.friendly(m.Dst)
	}
	return v
}

// friendly renders an address from the chain the way wallets of this
// network show it (testnet-flagged off mainnet, non-bounceable).
func (s *Service) friendly(a *address.Address) string {
	a = a.Copy()
	a.SetTestnetOnly(s.cfg.Network != identity.Mainnet)
	return identity.FormatFriendly(a)
}

func (s *Service) handleDeposits(w http.ResponseWriter, r *http.Request) {
	wl, err := s.Wallet()
	if err != nil {
		writeErr(w, err)
		return
	}
	deps, err := wl.Deposits().ListDeposits()
	if err != nil {
		writeErr(w, err)
		return
	}
	out := []DepositView{}
	for _, d := range deps {
		out = append(out, DepositView{TxHash: fmt.Sprintf("%x", d.TxHash), Time: d.Time, From: s.friendly(d.From), Amount: amount(d.Amount), Comment: d.Comment})
	}
	apiutil.WriteJSON(w, http.StatusOK, out)
}

func isRemoteBadRequest(err error) bool {
	var re *remote.RemoteError
	return errors.As(err, &re) && re.Code == remote.CodeBadRequest
}
