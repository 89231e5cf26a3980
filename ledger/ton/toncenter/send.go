package toncenter

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
)

// externalBOC reads the "boc" parameter: a base64 external-in message.
func externalBOC(p params) ([]byte, *ton.External, error) {
	s, err := p.need("boc")
	if err != nil {
		return nil, nil, err
	}
	if s == "" {
		return nil, nil, errf(422, "empty boc")
	}
	raw, err := decodeB64(s)
	if err != nil {
		return nil, nil, errf(422, "Validation error: boc: not base64")
	}
	ext, err := ton.ParseExternal(raw)
	if err != nil {
		return nil, nil, errf(422, "Validation error: boc: %v", err)
	}
	return raw, ext, nil
}

func sendBoc(ctx context.Context, h *Handler, c ton.Chain, p params) (any, error) {
	raw, _, err := externalBOC(p)
	if err != nil {
		return nil, err
	}
	if _, err := c.SendExternal(ctx, raw); err != nil {
		return nil, err
	}
	return map[string]any{"@type": "ok", "@extra": extra()}, nil
}

// sendBocReturnHash answers tonlib's raw.extMessageInfo: hash is the hash
// of the message cell as sent, hash_norm its normalised hash (TEP-467).
func sendBocReturnHash(ctx context.Context, h *Handler, c ton.Chain, p params) (any, error) {
	raw, ext, err := externalBOC(p)
	if err != nil {
		return nil, err
	}
	norm, err := c.SendExternal(ctx, raw)
	if err != nil {
		return nil, err
	}
	return map[string]any{"@type": "raw.extMessageInfo", "hash": b64(ext.Cell.Hash()), "hash_norm": b64(norm), "@extra": extra()}, nil
}

// estimateFee builds the external message toncenter would (address, body,
// optional init_code and init_data) and prices it on a copy of the state.
func estimateFee(ctx context.Context, h *Handler, c ton.Chain, p params) (any, error) {
	addr, err := p.address("address")
	if err != nil {
		return nil, err
	}
	bodyS, err := p.need("body")
	if err != nil {
		return nil, err
	}
	body, err := decodeBOC(bodyS)
	if err != nil {
		return nil, errf(422, "Validation error: body: %v", err)
	}
	ignore, err := p.boolean("ignore_chksig", true)
	if err != nil {
		return nil, err
	}
	msg := &tlb.ExternalMessage{DstAddr: addr, Body: body}
	codeS, _, err := p.str("init_code")
	if err != nil {
		return nil, err
	}
	dataS, _, err := p.str("init_data")
	if err != nil {
		return nil, err
	}
	if codeS != "" || dataS != "" {
		init := &tlb.StateInit{}
		if codeS != "" {
			if init.Code, err = decodeBOC(codeS); err != nil {
				return nil, errf(422, "Validation error: init_code: %v", err)
			}
		}
		if dataS != "" {
			if init.Data, err = decodeBOC(dataS); err != nil {
				return nil, errf(422, "Validation error: init_data: %v", err)
			}
		}
		msg.StateInit = init
	}
	fe, ok := c.(ton.FeeEstimator)
	if !ok {
		return nil, errf(422, "estimateFee is not offered by this node's chain")
	}
	mc, err := tlb.ToCell(msg)
	if err != nil {
		return nil, errf(422, "Validation error: cannot build the message: %v", err)
	}
	fees, err := fe.EstimateExternal(ctx, mc.ToBOC(), ignore)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"@type": "query.fees",
		"source_fees": map[string]any{
			"@type": "fees", "in_fwd_fee": fees.InFwdFee.Int64(), "storage_fee": fees.StorageFee.Int64(),
			"gas_fee": fees.GasFee.Int64(), "fwd_fee": fees.FwdFee.Int64(),
		},
		"destination_fees": []any{},
		"@extra":           extra(),
	}, nil
}

// notActiveExit is the exit code tonlib reports for a get-method on an
// account without code.
const notActiveExit = -13

func runGetMethod(ctx context.Context, h *Handler, c ton.Chain, p params) (any, error) {
	addr, err := p.address("address")
	if err != nil {
		return nil, err
	}
	var name string
	switch v := p["method"].(type) {
	case string:
		name = v
	case nil:
		return nil, errf(422, "Validation error: method: field required")
	default:
		return nil, errf(422, "Validation error: method: give the get-method's name (method ids are not supported here)")
	}
	if len(name) == 0 || len(name) > 128 {
		return nil, errf(422, "Validation error: method: want a name of 1 to 128 characters")
	}
	stack, err := DecodeStack(rawParam(p["stack"]))
	if err != nil {
		return nil, err
	}
	if p["stack"] == nil {
		return nil, errf(422, "Validation error: stack: field required")
	}
	// The account and block reads go alongside the method: over a remote
	// chain each is a round trip.
	var (
		st     *ton.AccountState
		hd     *ton.Head
		stErr  error
		hdErr  error
		fetchd = make(chan struct{})
	)
	go func() {
		defer close(fetchd)
		st, stErr = c.Account(ctx, addr)
		if stErr == nil {
			hd, hdErr = head(ctx, c)
		}
	}()
	res, err := runMethod(ctx, c, addr, name, stack)
	<-fetchd
	if err != nil {
		return nil, err
	}
	if stErr != nil {
		return nil, stErr
	}
	if hdErr != nil {
		return nil, hdErr
	}
	return map[string]any{
		"@type":               "smc.runResult",
		"gas_used":            res.GasUsed,
		"stack":               EncodeStack(res.Stack),
		"exit_code":           res.ExitCode,
		"block_id":            blockID(hd.Seqno, hd.RootHash, hd.FileHash),
		"last_transaction_id": txID(st.LastTxLT, st.LastTxHash),
		"@extra":              extra(),
	}, nil
}

// runMethod runs a get-method; a failure of the method itself (or an
// account without code) is a result with its exit code, as tonlib gives.
func runMethod(ctx context.Context, c ton.Chain, addr *address.Address, name string, stack []any) (*ton.GetMethodResult, error) {
	var (
		res *ton.GetMethodResult
		err error
	)
	if gr, ok := c.(ton.GetMethodRunner); ok {
		res, err = gr.RunGetMethodResult(ctx, addr, name, stack...)
	} else {
		var vals []any
		vals, err = c.RunGetMethod(ctx, addr, name, stack...)
		res = &ton.GetMethodResult{Stack: vals}
	}
	var gm *ton.ErrGetMethod
	switch {
	case errors.Is(err, ton.ErrNotActive):
		return &ton.GetMethodResult{Stack: []any{}, ExitCode: notActiveExit}, nil
	case errors.As(err, &gm):
		return &ton.GetMethodResult{Stack: []any{}, ExitCode: gm.ExitCode}, nil
	case err != nil:
		return nil, err
	}
	if res.ExitCode != 0 && res.ExitCode != 1 {
		res.Stack = []any{}
	}
	return res, nil
}

// rawParam gives a decoded parameter back as JSON; a string is taken as
// JSON text (a stack passed in a query string).
func rawParam(v any) json.RawMessage {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return json.RawMessage(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}
