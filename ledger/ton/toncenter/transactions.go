package toncenter

import (
	"bytes"
	"context"
	"encoding/base64"
	"math/big"
	"strconv"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// maxTxLimit is toncenter's bound on getTransactions' limit.
const maxTxLimit = 100

// getTransactions lists an account's transactions newest first, as
// toncenter does: from the transaction (lt, hash) inclusive when both are
// given, else from the newest; at most limit (1-100, default 10); none at
// or below to_lt.
func getTransactions(ctx context.Context, h *Handler, c ton.Chain, p params) (any, error) {
	addr, err := p.address("address")
	if err != nil {
		return nil, err
	}
	limit, err := p.uint("limit", 10)
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > maxTxLimit {
		return nil, errf(422, "Validation error: limit: ensure this value is greater than 0 and less than or equal to %d", maxTxLimit)
	}
	lt, err := p.uint("lt", 0)
	if err != nil {
		return nil, err
	}
	toLT, err := p.uint("to_lt", 0)
	if err != nil {
		return nil, err
	}
	if _, err := p.boolean("archival", false); err != nil {
		return nil, err
	}
	hashStr, hasHash, err := p.str("hash")
	if err != nil {
		return nil, err
	}
	var hash []byte
	if hasHash && hashStr != "" && lt != 0 {
		if hash, err = txHash(hashStr); err != nil {
			return nil, err
		}
	} else {
		lt = 0 // toncenter starts from the newest unless given both
	}
	txs, err := newestFirst(ctx, c, addr, lt, int(limit))
	if err != nil {
		return nil, err
	}
	if hash != nil && (len(txs) == 0 || txs[0].LT != lt || !bytes.Equal(txs[0].Hash, hash)) {
		return nil, errf(404, "transaction not found: lt %d with hash %s is not a transaction of %s", lt, hashStr, h.friendly(addr))
	}
	out := make([]any, 0, len(txs))
	for _, tx := range txs {
		if tx.LT <= toLT {
			break
		}
		out = append(out, h.txJSON(addr, tx))
	}
	return out, nil
}

// newestFirst reads up to limit transactions of addr at or below fromLT
// (0: from the newest), newest first.
func newestFirst(ctx context.Context, c ton.Chain, addr *address.Address, fromLT uint64, limit int) ([]*ton.Transaction, error) {
	if hr, ok := c.(ton.HistoryReader); ok {
		return hr.TransactionsBefore(ctx, addr, fromLT, limit)
	}
	all, err := c.Transactions(ctx, addr, 0, 0)
	if err != nil {
		return nil, err
	}
	var out []*ton.Transaction
	for i := len(all) - 1; i >= 0 && len(out) < limit; i-- {
		if fromLT == 0 || all[i].LT <= fromLT {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// txJSON is a transaction in toncenter's raw.transaction form.
func (h *Handler) txJSON(acct *address.Address, tx *ton.Transaction) map[string]any {
	storage := tx.StorageFee
	if storage == nil {
		storage = new(big.Int)
	}
	out := map[string]any{
		"@type":          "raw.transaction",
		"address":        map[string]any{"@type": "accountAddress", "account_address": h.friendly(acct)},
		"utime":          tx.Now,
		"data":           base64.StdEncoding.EncodeToString(tx.BOC),
		"transaction_id": txID(tx.LT, tx.Hash),
		"fee":            tx.TotalFees.String(),
		"storage_fee":    storage.String(),
		"other_fee":      new(big.Int).Sub(tx.TotalFees, storage).String(),
		"out_msgs":       []any{},
	}
	if tx.In != nil {
		out["in_msg"] = h.msgJSON(tx.In)
	}
	outs := make([]any, 0, len(tx.Out))
	for _, m := range tx.Out {
		outs = append(outs, h.msgJSON(m))
	}
	out["out_msgs"] = outs
	return out
}

// msgJSON is a message in toncenter's raw.message form. A plain-text
// comment is msg.dataText (text in base64, "message" the text itself);
// anything else msg.dataRaw (body and init_state BOCs, "message" the
// base64 of the body's data bits), as pytonlib decodes them.
func (h *Handler) msgJSON(m *ton.Message) map[string]any {
	ihr, fwd := new(big.Int), m.FwdFee
	if fwd == nil {
		fwd = new(big.Int)
	}
	var init *cell.Cell
	hash := m.Hash
	if m.Cell != nil {
		hash = m.Cell.Hash()
		ihr, init = parsedExtras(m.Cell)
	}
	body := m.Body
	if body == nil {
		body = cell.BeginCell().EndCell()
	}
	value := m.Value
	if value == nil {
		value = new(big.Int)
	}
	out := map[string]any{
		"@type":            "raw.message",
		"hash":             base64.StdEncoding.EncodeToString(hash),
		"source":           h.friendly(m.Src),
		"destination":      h.friendly(m.Dst),
		"value":            value.String(),
		"extra_currencies": []any{},
		"fwd_fee":          fwd.String(),
		"ihr_fee":          ihr.String(),
		"created_lt":       strconv.FormatUint(m.CreatedLT, 10),
		"body_hash":        base64.StdEncoding.EncodeToString(body.Hash()),
	}
	if m.Comment != "" {
		out["msg_data"] = map[string]any{"@type": "msg.dataText", "text": base64.StdEncoding.EncodeToString([]byte(m.Comment))}
		out["message"] = m.Comment
		return out
	}
	out["msg_data"] = map[string]any{"@type": "msg.dataRaw", "body": base64.StdEncoding.EncodeToString(body.ToBOC()), "init_state": bocB64(init)}
	out["message"] = ""
	if s, err := body.BeginParse(); err == nil {
		if data, err := s.LoadSlice(s.BitsLeft()); err == nil {
			out["message"] = base64.StdEncoding.EncodeToString(data)
		}
	}
	return out
}

// parsedExtras reads what ton.Message does not carry from the message's
// own cell: the IHR fee and the state init.
func parsedExtras(c *cell.Cell) (ihr *big.Int, init *cell.Cell) {
	ihr = new(big.Int)
	defer func() { _ = recover() }() // third-party parse of stored bytes
	var m tlb.Message
	if err := tlb.Parse(&m, c); err != nil {
		return ihr, nil
	}
	var si *tlb.StateInit
	switch x := m.Msg.(type) {
	case *tlb.InternalMessage:
		ihr.Set(x.IHRFee.Nano())
		si = x.StateInit
	case *tlb.ExternalMessage:
		si = x.StateInit
	}
	if si != nil {
		if ic, err := tlb.ToCell(si); err == nil {
			init = ic
		}
	}
	return ihr, init
}
