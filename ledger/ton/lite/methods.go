package lite

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	tonapi "github.com/xssnick/tonutils-go/ton"
)

// Account implements ton.Chain: the state of addr in the current
// masterchain block, proven.
func (c *Chain) Account(ctx context.Context, addr *address.Address) (st *ton.AccountState, err error) {
	if err := checkAddr(addr); err != nil {
		return nil, err
	}
	defer guard("account "+addr.String(), &err)
	master, err := c.head(ctx)
	if err != nil {
		return nil, err
	}
	acc, err := c.api.GetAccount(ctx, master, addr)
	if err != nil {
		return nil, fmt.Errorf("lite: read account %s at masterchain block %d: %w", addr, master.SeqNo, err)
	}
	return accountState(addr, acc), nil
}

// accountState converts a liteserver account into the project's type.
func accountState(addr *address.Address, acc *tlb.Account) *ton.AccountState {
	out := &ton.AccountState{Address: addr, Status: ton.StatusNonExist, Balance: new(big.Int)}
	if acc == nil || !acc.IsActive || acc.State == nil || !acc.State.IsValid {
		return out
	}
	out.LastTxLT = acc.LastTxLT
	if acc.LastTxLT != 0 {
		out.LastTxHash = append([]byte(nil), acc.LastTxHash...)
	}
	out.Balance.Set(acc.State.Balance.Nano())
	switch acc.State.Status {
	case tlb.AccountStatusActive:
		out.Status = ton.StatusActive
		if si := acc.State.StateInit; si != nil {
			out.Code, out.Data = si.Code, si.Data
		}
	case tlb.AccountStatusFrozen:
		out.Status = ton.StatusFrozen
	case tlb.AccountStatusUninit:
		out.Status = ton.StatusUninit
	}
	return out
}

// SendExternal implements ton.Chain. The liteserver runs the message on
// the account's current state and forwards it only if the contract
// accepts it; a refusal is ton.ErrRejected.
func (c *Chain) SendExternal(ctx context.Context, boc []byte) (hash []byte, err error) {
	ext, err := ton.ParseExternal(boc)
	if err != nil {
		return nil, err
	}
	in := ext.Msg.Msg.(*tlb.ExternalMessage) // ParseExternal guarantees it
	defer guard("send external message", &err)
	// tonutils-go re-serialises the message; the normalised hash, which
	// is what the sender looks for, does not depend on the layout.
	if err := c.api.SendExternalMessage(ctx, in); err != nil {
		if isRejection(err) {
			return nil, fmt.Errorf("lite: external message %x to %s: %w: %w", ext.Hash, in.DstAddr, ton.ErrRejected, err)
		}
		return nil, fmt.Errorf("lite: send external message %x to %s: %w", ext.Hash, in.DstAddr, err)
	}
	return ext.Hash, nil
}

// isRejection tells a liteserver's "the contract did not accept it" from
// other failures. Liteservers check an external message against the
// account's current state before forwarding it and answer with an error
// whose text starts "cannot apply external message to current state".
func isRejection(err error) bool {
	var ls tonapi.LSError
	if !errors.As(err, &ls) {
		return false
	}
	return strings.Contains(ls.Text, "cannot apply external message") ||
		strings.Contains(ls.Text, "External message was not accepted")
}

// RunGetMethod implements ton.Chain: the method runs on a liteserver, on
// the account's proven state in the current masterchain block.
func (c *Chain) RunGetMethod(ctx context.Context, addr *address.Address, method string, args ...any) (out []any, err error) {
	if err := checkAddr(addr); err != nil {
		return nil, err
	}
	params, err := ton.StackArgs(args)
	if err != nil {
		return nil, fmt.Errorf("lite: get-method %q: %w", method, err)
	}
	defer guard(fmt.Sprintf("get-method %q on %s", method, addr), &err)
	master, err := c.head(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.api.RunGetMethod(ctx, master, addr, method, params...)
	if err != nil {
		var ce tonapi.ContractExecError
		if errors.As(err, &ce) {
			if ce.Code == tonapi.ErrCodeContractNotInitialized {
				return nil, fmt.Errorf("%w: %s", ton.ErrNotActive, addr)
			}
			return nil, &ton.ErrGetMethod{Method: method, ExitCode: int64(ce.Code)}
		}
		return nil, fmt.Errorf("lite: get-method %q on %s at masterchain block %d: %w", method, addr, master.SeqNo, err)
	}
	out, err = stackResults(res.AsTuple())
	if err != nil {
		return nil, fmt.Errorf("lite: get-method %q on %s: result: %w", method, addr, err)
	}
	return out, nil
}

// head is the current masterchain block, proven.
func (c *Chain) head(ctx context.Context) (*tonapi.BlockIDExt, error) {
	master, err := c.api.CurrentMasterchainInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("lite: read the %s masterchain head: %w", c.network, err)
	}
	return master, nil
}

func checkAddr(addr *address.Address) error {
	if addr == nil || addr.Type() != address.StdAddress || addr.BitsLen() != 256 {
		return fmt.Errorf("lite: %v is not a standard 256-bit account address", addr)
	}
	return nil
}
