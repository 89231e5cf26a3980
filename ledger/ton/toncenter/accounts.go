package toncenter

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"strconv"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/ton/wallet"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// zeroHash is the base64 of 32 zero bytes: a missing hash, as tonlib
// renders it.
var zeroHash = base64.StdEncoding.EncodeToString(make([]byte, 32))

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func bocB64(c *cell.Cell) string {
	if c == nil {
		return ""
	}
	return b64(c.ToBOC())
}

// state is toncenter's account state word.
func state(st *ton.AccountState) string {
	switch st.Status {
	case ton.StatusActive:
		return "active"
	case ton.StatusFrozen:
		return "frozen"
	}
	return "uninitialized"
}

func txID(lt uint64, hash []byte) map[string]any {
	h := zeroHash
	if len(hash) == 32 {
		h = b64(hash)
	}
	return map[string]any{"@type": "internal.transactionId", "lt": strconv.FormatUint(lt, 10), "hash": h}
}

// head is the chain's latest block, or a zero one from a chain that
// cannot say.
func head(ctx context.Context, c ton.Chain) (*ton.Head, error) {
	if hr, ok := c.(ton.HeadReader); ok {
		return hr.Head(ctx)
	}
	return &ton.Head{RootHash: make([]byte, 32), FileHash: make([]byte, 32)}, nil
}

// blockID is a masterchain block id (ton.blockIdExt).
func blockID(seqno uint64, root, file []byte) map[string]any {
	return map[string]any{
		"@type": "ton.blockIdExt", "workchain": -1, "shard": "-9223372036854775808",
		"seqno": seqno, "root_hash": b64(root), "file_hash": b64(file),
	}
}

// account reads the account the "address" parameter names.
func account(ctx context.Context, c ton.Chain, p params) (*ton.AccountState, error) {
	addr, err := p.address("address")
	if err != nil {
		return nil, err
	}
	return c.Account(ctx, addr)
}

func getAddressInformation(ctx context.Context, h *Handler, c ton.Chain, p params) (any, error) {
	st, err := account(ctx, c, p)
	if err != nil {
		return nil, err
	}
	hd, err := head(ctx, c)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"@type":               "raw.fullAccountState",
		"balance":             st.Balance.String(),
		"extra_currencies":    []any{},
		"code":                bocB64(st.Code),
		"data":                bocB64(st.Data),
		"last_transaction_id": txID(st.LastTxLT, st.LastTxHash),
		"block_id":            blockID(hd.Seqno, hd.RootHash, hd.FileHash),
		"frozen_hash":         "",
		"sync_utime":          hd.Now,
		"@extra":              extra(),
		"state":               state(st),
	}, nil
}

func getAddressBalance(ctx context.Context, h *Handler, c ton.Chain, p params) (any, error) {
	st, err := account(ctx, c, p)
	if err != nil {
		return nil, err
	}
	return st.Balance.String(), nil
}

func getAddressState(ctx context.Context, h *Handler, c ton.Chain, p params) (any, error) {
	st, err := account(ctx, c, p)
	if err != nil {
		return nil, err
	}
	return state(st), nil
}

// walletKind is a known wallet contract, recognised by its code's hash.
type walletKind struct {
	name string
	// seqnoAt is the bit offset of seqno (then wallet_id) in the data.
	seqnoAt uint
}

var knownWallets = func() map[string]walletKind {
	pub := make(ed25519.PublicKey, ed25519.PublicKeySize)
	m := map[string]walletKind{}
	for _, w := range []struct {
		v    wallet.VersionConfig
		kind walletKind
	}{
		{wallet.V3R2, walletKind{"wallet v3 r2", 0}},
		{wallet.V4R2, walletKind{"wallet v4 r2", 0}},
		{wallet.ConfigV5R1Final{NetworkGlobalID: -3}, walletKind{"wallet v5 r1", 1}},
	} {
		init, err := wallet.GetStateInit(pub, w.v, 0)
		if err == nil {
			m[string(init.Code.Hash())] = w.kind
		}
	}
	return m
}()

// getWalletInformation answers as toncenter does: balance is a string, or
// the number 0 for an empty account; seqno and wallet_id only for a wallet
// it knows (v3r2, v4r2, v5r1).
func getWalletInformation(ctx context.Context, h *Handler, c ton.Chain, p params) (any, error) {
	st, err := account(ctx, c, p)
	if err != nil {
		return nil, err
	}
	var bal any = 0
	if st.Balance.Sign() > 0 {
		bal = st.Balance.String()
	}
	res := map[string]any{
		"wallet": false, "balance": bal, "account_state": state(st),
		"last_transaction_id": txID(st.LastTxLT, st.LastTxHash),
	}
	if st.Code == nil || st.Data == nil {
		return res, nil
	}
	kind, ok := knownWallets[string(st.Code.Hash())]
	if !ok {
		return res, nil
	}
	res["wallet"], res["wallet_type"] = true, kind.name
	s, err := st.Data.BeginParse()
	if err != nil {
		return res, nil
	}
	if _, err := s.LoadUInt(kind.seqnoAt); err != nil {
		return res, nil
	}
	if seqno, err := s.LoadUInt(32); err == nil {
		res["seqno"] = seqno
	}
	if id, err := s.LoadUInt(32); err == nil {
		res["wallet_id"] = id
	}
	return res, nil
}

func getMasterchainInfo(ctx context.Context, h *Handler, c ton.Chain, p params) (any, error) {
	hd, err := head(ctx, c)
	if err != nil {
		return nil, err
	}
	// The emulated chain's first block is its genesis step.
	init := blockID(0, make([]byte, 32), make([]byte, 32))
	return map[string]any{
		"@type":           "blocks.masterchainInfo",
		"last":            blockID(hd.Seqno, hd.RootHash, hd.FileHash),
		"state_root_hash": b64(hd.RootHash),
		"init":            init,
		"@extra":          extra(),
	}, nil
}

// friendly renders an address as tonlib does: user-friendly, bounceable,
// URL-safe base64, testnet-flagged on a test network; "" for none.
func (h *Handler) friendly(a *address.Address) string {
	if a == nil || a.IsAddrNone() || a.Type() != address.StdAddress {
		return ""
	}
	a = a.Copy()
	a.SetBounce(true)
	a.SetTestnetOnly(h.testnet)
	return a.String()
}
