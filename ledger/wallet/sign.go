package wallet

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/ton/wallet"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

const (
	// v4r2SubwalletID is the wallet_id every TON wallet app uses for the
	// first v4r2 wallet on workchain 0.
	v4r2SubwalletID uint32 = 698983191
	// v5SignedExternal is wallet v5r1's op for a signed external order.
	v5SignedExternal = 0x7369676e
	// maxMessages is how many messages one order may carry (v4r2's limit,
	// the smaller of the two).
	maxMessages = 4
)

// contract is one wallet version's code and message format for one key on
// one network.
type contract struct {
	version  identity.WalletVersion
	key      ed25519.PrivateKey
	globalID int32
}

func (c contract) config() (wallet.VersionConfig, uint32, error) {
	switch c.version {
	case identity.V5R1:
		return wallet.ConfigV5R1Final{NetworkGlobalID: c.globalID, Workchain: 0}, 0, nil
	case identity.V4R2:
		return wallet.V4R2, v4r2SubwalletID, nil
	default:
		return nil, 0, fmt.Errorf("wallet: unknown wallet version %q: use %q or %q", c.version, identity.V5R1, identity.V4R2)
	}
}

func (c contract) pub() ed25519.PublicKey { return c.key.Public().(ed25519.PublicKey) }

// address is the wallet's address: workchain 0, non-bounceable, with the
// testnet flag on testnet-like chains (global ID -3), as TON wallets show it.
func (c contract) address() (*address.Address, error) {
	cfg, sub, err := c.config()
	if err != nil {
		return nil, err
	}
	addr, err := wallet.AddressFromPubKey(c.pub(), cfg, sub)
	if err != nil {
		return nil, fmt.Errorf("wallet: compute %s address: %w", c.version, err)
	}
	addr.SetBounce(false)
	addr.SetTestnetOnly(c.globalID == identity.Testnet.GlobalID())
	return addr, nil
}

// stateInit is the code and initial data that deploy the wallet.
func (c contract) stateInit() (*tlb.StateInit, error) {
	cfg, sub, err := c.config()
	if err != nil {
		return nil, err
	}
	init, err := wallet.GetStateInit(c.pub(), cfg, sub)
	if err != nil {
		return nil, fmt.Errorf("wallet: %s state init: %w", c.version, err)
	}
	return init, nil
}

// order builds the signed external message of one wallet order: msgs
// sent with sequence number seqno, valid until validUntil, carrying the
// state init when withInit (the wallet's first order deploys it). It
// signs valid_until from the caller's clock, not the wall clock.
func (c contract) order(from *address.Address, seqno uint32, validUntil time.Time, withInit bool, msgs []*wallet.Message) (*cell.Cell, error) {
	if len(msgs) == 0 || len(msgs) > maxMessages {
		return nil, fmt.Errorf("wallet: an order carries 1 to %d messages, got %d", maxMessages, len(msgs))
	}
	var body *cell.Cell
	switch c.version {
	case identity.V5R1:
		actions, err := wallet.PackV5OutActions(msgs)
		if err != nil {
			return nil, fmt.Errorf("wallet: pack v5r1 actions: %w", err)
		}
		id := wallet.V5R1ID{NetworkGlobalID: c.globalID, WorkChain: 0}
		payload := cell.BeginCell().
			MustStoreUInt(v5SignedExternal, 32).
			MustStoreUInt(uint64(id.Serialized()), 32).
			MustStoreUInt(uint64(validUntil.Unix()), 32).
			MustStoreUInt(uint64(seqno), 32).
			MustStoreBuilder(actions)
		sig := payload.EndCell().Sign(c.key)
		body = payload.MustStoreSlice(sig, 512).EndCell()
	case identity.V4R2:
		payload := cell.BeginCell().
			MustStoreUInt(uint64(v4r2SubwalletID), 32).
			MustStoreUInt(uint64(validUntil.Unix()), 32).
			MustStoreUInt(uint64(seqno), 32).
			MustStoreUInt(0, 8) // op 0: simple send
		for i, m := range msgs {
			mc, err := tlb.ToCell(m.InternalMessage)
			if err != nil {
				return nil, fmt.Errorf("wallet: serialise message %d: %w", i, err)
			}
			payload.MustStoreUInt(uint64(m.Mode), 8).MustStoreRef(mc)
		}
		sig := payload.EndCell().Sign(c.key)
		body = cell.BeginCell().MustStoreSlice(sig, 512).MustStoreBuilder(payload).EndCell()
	default:
		_, _, err := c.config()
		return nil, err
	}
	ext := &tlb.ExternalMessage{DstAddr: from, Body: body}
	if withInit {
		init, err := c.stateInit()
		if err != nil {
			return nil, err
		}
		ext.StateInit = init
	}
	out, err := tlb.ToCell(ext)
	if err != nil {
		return nil, fmt.Errorf("wallet: build external message: %w", err)
	}
	return out, nil
}
