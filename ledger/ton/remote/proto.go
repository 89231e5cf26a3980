package remote

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Protocol is the stream protocol the chain is served on: one request
// frame, one response frame per stream.
var Protocol = p2p.ProtocolID("ledger", "chain", "1.0.0")

// Version is the version of the request and response format; both sides
// refuse any other.
const Version = 1

// Size limits. A request holds at most one external message BOC
// (ton.MaxExternalSize) in base64 plus small fields; a response at most
// one page of transactions.
const (
	MaxRequestSize  = 256 << 10
	MaxResponseSize = p2p.DefaultMaxFrame
	// MaxPage is the most transactions one response carries.
	MaxPage = 256
	// maxPageBytes bounds the transaction BOCs of one response before
	// base64, so the encoded response stays under MaxResponseSize.
	maxPageBytes = 2 << 20
	// maxStackItems bounds get-method arguments and results, counting
	// tuple members; maxStackDepth bounds tuple nesting.
	maxStackItems = 256
	maxStackDepth = 8
	// maxIntDigits is enough for a TVM integer (257 bits signed).
	maxIntDigits = 80
	// maxCellBOC bounds one cell value's BOC.
	maxCellBOC = 64 << 10
	// maxErrorText bounds an error message sent to a peer.
	maxErrorText = 1024
)

// Methods.
const (
	methodInfo         = "info"
	methodSendExternal = "send_external"
	methodAccount      = "account"
	methodTransactions = "transactions"
	methodGetMethod    = "run_get_method"
	methodFaucet       = "faucet"
	methodHead         = "head"
	methodEstimate     = "estimate"
	methodTxsBefore    = "transactions_before"
)

// Error codes carried in responses.
const (
	// CodeBadRequest: the request was malformed or out of limits.
	CodeBadRequest = "bad_request"
	// CodeRejected: the contract refused the external message (ton.ErrRejected).
	CodeRejected = "rejected"
	// CodeNotActive: the account has no code (ton.ErrNotActive).
	CodeNotActive = "not_active"
	// CodeGetMethod: the get-method ran and failed (ton.ErrGetMethod).
	CodeGetMethod = "get_method"
	// CodeNoFaucet: the host runs no faucet.
	CodeNoFaucet = "no_faucet"
	// CodeRateLimited: the requester is over its faucet allowance.
	CodeRateLimited = "rate_limited"
	// CodeFailed: anything else that went wrong on the host.
	CodeFailed = "failed"
)

var getMethodName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// request is one call. Fields beyond V and Method depend on the method.
type request struct {
	V         int     `json:"v"`
	Method    string  `json:"method"`
	Addr      string  `json:"addr,omitempty"`
	BOC       []byte  `json:"boc,omitempty"`
	AfterLT   uint64  `json:"after_lt,omitempty"`
	Limit     int     `json:"limit,omitempty"`
	GetMethod string  `json:"get,omitempty"`
	Args      []value `json:"args,omitempty"`
	Amount    string  `json:"amount,omitempty"`
	IgnoreSig bool    `json:"ignore_sig,omitempty"`
	FromLT    uint64  `json:"from_lt,omitempty"`
}

// response answers one call: Err, or the method's result fields.
type response struct {
	V        int          `json:"v"`
	Err      *wireError   `json:"err,omitempty"`
	GlobalID int32        `json:"global_id,omitempty"`
	Faucet   bool         `json:"faucet,omitempty"`
	Hash     []byte       `json:"hash,omitempty"`
	Account  *wireAccount `json:"account,omitempty"`
	Txs      [][]byte     `json:"txs,omitempty"`
	More     bool         `json:"more,omitempty"`
	Stack    []value      `json:"stack,omitempty"`
	Gas      int64        `json:"gas,omitempty"`
	Head     *wireHead    `json:"head,omitempty"`
	Fees     *wireFees    `json:"fees,omitempty"`
}

type wireHead struct {
	Seqno    uint64 `json:"seqno"`
	Now      uint32 `json:"now"`
	LT       uint64 `json:"lt"`
	RootHash []byte `json:"root_hash"`
	FileHash []byte `json:"file_hash"`
}

// wireFees are nanoTON amounts as decimal strings.
type wireFees struct {
	InFwd   string `json:"in_fwd"`
	Storage string `json:"storage"`
	Gas     string `json:"gas"`
	Fwd     string `json:"fwd"`
}

type wireError struct {
	Code     string `json:"code"`
	Message  string `json:"msg"`
	ExitCode int64  `json:"exit_code,omitempty"`
}

type wireAccount struct {
	Status     string `json:"status"`
	Balance    string `json:"balance"`
	Code       []byte `json:"code,omitempty"`
	Data       []byte `json:"data,omitempty"`
	LastTxLT   uint64 `json:"last_lt,omitempty"`
	LastTxHash []byte `json:"last_hash,omitempty"`
}

// value is one TVM stack value: T is "int" (N, decimal), "cell", "slice"
// or "builder" (BOC, the slice's remaining bits and refs as a cell),
// "tuple" (Items) or "null".
type value struct {
	T     string  `json:"t"`
	N     string  `json:"n,omitempty"`
	BOC   []byte  `json:"boc,omitempty"`
	Items []value `json:"items,omitempty"`
}

// decodeStrict reads exactly one JSON object of at most max bytes into v,
// refusing unknown fields and trailing data.
func decodeStrict(b []byte, max int, v any) error {
	if len(b) > max {
		return fmt.Errorf("%d bytes, the limit is %d", len(b), max)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not a valid message: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the message")
	}
	return nil
}

// decodeRequest decodes and checks a request from the network.
func decodeRequest(b []byte) (*request, error) {
	var r request
	if err := decodeStrict(b, MaxRequestSize, &r); err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	if r.V != Version {
		return nil, fmt.Errorf("request: version %d, this host speaks %d", r.V, Version)
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("request %q: %w", r.Method, err)
	}
	return &r, nil
}

// check refuses fields the method does not take and bad values.
func (r *request) check() error {
	hasAddr := r.Addr != ""
	want := map[string][8]bool{ // addr, boc, after/limit, get, args, amount, ignore_sig, from_lt
		methodInfo:         {},
		methodSendExternal: {false, true},
		methodAccount:      {true},
		methodTransactions: {true, false, true},
		methodGetMethod:    {true, false, false, true, true},
		methodFaucet:       {true, false, false, false, false, true},
		methodHead:         {},
		methodEstimate:     {false, true, false, false, false, false, true},
		methodTxsBefore:    {true, false, true, false, false, false, false, true},
	}
	w, ok := want[r.Method]
	if !ok {
		return errors.New("unknown method")
	}
	has := [8]bool{hasAddr, r.BOC != nil, r.AfterLT != 0 || r.Limit != 0, r.GetMethod != "", r.Args != nil, r.Amount != "", r.IgnoreSig, r.FromLT != 0}
	for i, name := range []string{"addr", "boc", "after_lt/limit", "get", "args", "amount", "ignore_sig", "from_lt"} {
		if has[i] && !w[i] {
			return fmt.Errorf("field %s is not taken by this method", name)
		}
	}
	if w[0] {
		if _, err := parseAddr(r.Addr); err != nil {
			return err
		}
	}
	switch r.Method {
	case methodSendExternal, methodEstimate:
		if _, err := ton.ParseExternal(r.BOC); err != nil {
			return err
		}
	case methodTxsBefore:
		if r.AfterLT != 0 {
			return errors.New("field after_lt is not taken by this method")
		}
		if r.Limit < 0 || r.Limit > MaxPage {
			return fmt.Errorf("limit %d: want 0 (a full page) to %d", r.Limit, MaxPage)
		}
	case methodTransactions:
		if r.Limit < 0 || r.Limit > MaxPage {
			return fmt.Errorf("limit %d: want 0 (a full page) to %d", r.Limit, MaxPage)
		}
	case methodGetMethod:
		if !getMethodName.MatchString(r.GetMethod) {
			return fmt.Errorf("get-method name %q: want an identifier of at most 128 characters", r.GetMethod)
		}
		if _, err := fromValues(r.Args); err != nil {
			return fmt.Errorf("args: %w", err)
		}
	case methodFaucet:
		if _, err := parseAmount(r.Amount); err != nil {
			return err
		}
	}
	return nil
}

// decodeResponse decodes and checks a response from the network.
func decodeResponse(b []byte) (*response, error) {
	var r response
	if err := decodeStrict(b, MaxResponseSize, &r); err != nil {
		return nil, fmt.Errorf("response: %w", err)
	}
	if r.V != Version {
		return nil, fmt.Errorf("response: version %d, this client speaks %d", r.V, Version)
	}
	if r.Err != nil && (r.Err.Code == "" || len(r.Err.Message) > maxErrorText) {
		return nil, errors.New("response: error without a code or with an over-long message")
	}
	if len(r.Txs) > MaxPage {
		return nil, fmt.Errorf("response: %d transactions, the limit is %d", len(r.Txs), MaxPage)
	}
	if _, err := fromValues(r.Stack); err != nil {
		return nil, fmt.Errorf("response: stack: %w", err)
	}
	if h := r.Head; h != nil && (len(h.RootHash) != 32 || len(h.FileHash) != 32) {
		return nil, errors.New("response: head: block hashes must be 32 bytes")
	}
	return &r, nil
}

func parseAddr(s string) (*address.Address, error) {
	if len(s) > 80 {
		return nil, errors.New("addr: too long")
	}
	a, err := address.ParseRawAddr(s)
	if err != nil {
		return nil, fmt.Errorf("addr %q: want <workchain>:<64 hex digits>: %v", s, err)
	}
	return a, nil
}

func parseAmount(s string) (*big.Int, error) {
	if s == "" || len(s) > 40 {
		return nil, fmt.Errorf("amount %q: want a positive number of nanoTON", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return nil, fmt.Errorf("amount %q: want a positive number of nanoTON", s)
		}
	}
	n, _ := new(big.Int).SetString(s, 10)
	if n.Sign() <= 0 {
		return nil, fmt.Errorf("amount %q: want a positive number of nanoTON", s)
	}
	return n, nil
}

// parseBOC decodes a cell from bytes off the network; a panic in the
// third-party decoder becomes an error.
func parseBOC(b []byte, max int) (c *cell.Cell, err error) {
	if len(b) == 0 || len(b) > max {
		return nil, fmt.Errorf("BOC of %d bytes: want 1 to %d", len(b), max)
	}
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("malformed BOC (%v)", r)
		}
	}()
	c, err = cell.FromBOC(b)
	if err != nil {
		return nil, fmt.Errorf("malformed BOC: %w", err)
	}
	return c, nil
}
