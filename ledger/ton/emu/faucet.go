package emu

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/ton/wallet"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// faucetSeed derives the faucet wallet's key. It is PUBLIC: anyone can
// sign for the faucet. TESTNET-ONLY: never send real value to the faucet
// address of any network.
const faucetSeed = "tonmesh/v1/emu-faucet: TESTNET-ONLY faucet key, public, worthless"

// faucetComment is the text comment of every faucet transfer.
const faucetComment = "tonmesh testnet faucet"

// faucetTTL is how long a faucet order stays valid (v5r1 valid_until).
const faucetTTL = 5 * time.Minute

// ErrFaucetEmpty is returned by Faucet when the faucet holds too little.
var ErrFaucetEmpty = errors.New("emu: the faucet holds too little for this transfer")

// faucetWallet returns the faucet's key and its v5r1 wallet address (no
// bounce, testnet flag) on a chain with global ID globalID.
func faucetWallet(globalID int32) (ed25519.PrivateKey, *address.Address, error) {
	seed := sha256.Sum256([]byte(faucetSeed))
	key := ed25519.NewKeyFromSeed(seed[:])
	addr, err := wallet.AddressFromPubKey(key.Public().(ed25519.PublicKey), v5Config(globalID), 0)
	if err != nil {
		return nil, nil, fmt.Errorf("emu: faucet address: %w", err)
	}
	addr.SetBounce(false)
	addr.SetTestnetOnly(true)
	return key, addr, nil
}

func v5Config(globalID int32) wallet.ConfigV5R1Final {
	return wallet.ConfigV5R1Final{NetworkGlobalID: globalID, Workchain: 0}
}

func faucetStateInit(key ed25519.PrivateKey, globalID int32) (*tlb.StateInit, error) {
	init, err := wallet.GetStateInit(key.Public().(ed25519.PublicKey), v5Config(globalID), 0)
	if err != nil {
		return nil, fmt.Errorf("emu: faucet state init: %w", err)
	}
	return init, nil
}

// Faucet sends nano nanoTON from the testnet faucet wallet to to, as a
// real signed v5r1 transfer (non-bounceable, so it funds an undeployed
// wallet too) executed like any other message. It returns once the
// transfer and its delivery are applied.
func (c *Chain) Faucet(ctx context.Context, to *address.Address, nano *big.Int) error {
	if err := checkAddr(to); err != nil {
		return err
	}
	if nano == nil || nano.Sign() <= 0 {
		return fmt.Errorf("emu: faucet amount must be positive, got %v", nano)
	}
	c.faucetMu.Lock()
	defer c.faucetMu.Unlock()

	st, err := c.Account(ctx, c.faucetAddr)
	if err != nil {
		return err
	}
	if st.Balance.Cmp(nano) <= 0 {
		return fmt.Errorf("%w: it has %s nanoTON, asked for %s", ErrFaucetEmpty, st.Balance, nano)
	}
	res, err := c.RunGetMethod(ctx, c.faucetAddr, "seqno")
	if err != nil {
		return fmt.Errorf("emu: faucet seqno: %w", err)
	}
	seqno, ok := res[0].(*big.Int)
	if len(res) != 1 || !ok {
		return fmt.Errorf("emu: faucet seqno: unexpected result %v", res)
	}
	body, err := wallet.CreateCommentCell(faucetComment)
	if err != nil {
		return fmt.Errorf("emu: faucet comment: %w", err)
	}
	transfer := &wallet.Message{
		Mode: 3, // pay fees separately, ignore errors: the v5r1 default
		InternalMessage: &tlb.InternalMessage{
			IHRDisabled: true,
			Bounce:      false,
			DstAddr:     to,
			Amount:      tlb.FromNanoTON(nano),
			Body:        body,
		},
	}
	validUntil := c.now().Add(faucetTTL)
	boc, err := signV5R1(c.faucetKey, c.globalID, c.faucetAddr, uint32(seqno.Uint64()), validUntil, []*wallet.Message{transfer})
	if err != nil {
		return err
	}
	if _, err := c.SendExternal(ctx, boc); err != nil {
		return fmt.Errorf("emu: faucet transfer: %w", err)
	}
	return nil
}

// now is the chain's current unix time: the clock, but never before the
// last block.
func (c *Chain) now() time.Time {
	t := c.clock()
	c.mu.Lock()
	last := time.Unix(int64(c.meta.now), 0)
	c.mu.Unlock()
	if t.Before(last) {
		return last
	}
	return t
}

// signV5R1 builds the external message of a wallet v5r1 (subwallet 0)
// order: it signs valid_until from the chain's clock rather than the wall
// clock tonutils-go's wallet uses, so it works under an injected clock.
func signV5R1(key ed25519.PrivateKey, globalID int32, from *address.Address, seqno uint32, validUntil time.Time, msgs []*wallet.Message) ([]byte, error) {
	actions, err := wallet.PackV5OutActions(msgs)
	if err != nil {
		return nil, fmt.Errorf("emu: pack wallet actions: %w", err)
	}
	walletID := wallet.V5R1ID{NetworkGlobalID: globalID, WorkChain: 0}
	payload := cell.BeginCell().
		MustStoreUInt(0x7369676e, 32). // "sign": external signed request
		MustStoreUInt(uint64(walletID.Serialized()), 32).
		MustStoreUInt(uint64(validUntil.Unix()), 32).
		MustStoreUInt(uint64(seqno), 32).
		MustStoreBuilder(actions)
	sig := payload.EndCell().Sign(key)
	body := payload.MustStoreSlice(sig, 512).EndCell()
	ext, err := tlb.ToCell(&tlb.ExternalMessage{DstAddr: from, Body: body})
	if err != nil {
		return nil, fmt.Errorf("emu: build wallet external message: %w", err)
	}
	return ext.ToBOC(), nil
}
