package onchain

import (
	"fmt"
	"math/big"
	"time"
)

// Defaults and limits of auction parameters (item.fc enforces the limits).
const (
	DefaultStepPercent = 5
	DefaultExtension   = time.Hour
	MaxExtension       = 7 * 24 * time.Hour
	MaxDuration        = 365 * 24 * time.Hour
)

// AuctionParams are the terms an owner starts an auction with.
type AuctionParams struct {
	// MinBid is the least first bid, in nanoTON (> 0). MaxBid is the
	// buy-now price: a bid of at least MaxBid ends the auction at once; nil
	// or zero means none, else at least MinBid.
	MinBid, MaxBid *big.Int
	// StepPercent is the least raise over the leading bid, in percent
	// (1-100); 0 means DefaultStepPercent. A raise is also always at least
	// 1 TON.
	StepPercent uint8
	// Duration (1 s to 365 days) and Extension (up to 7 days; 0 means
	// DefaultExtension), whole seconds: a bid moves the end to at least
	// Extension after it.
	Duration, Extension time.Duration
}

func (p AuctionParams) withDefaults() AuctionParams {
	if p.StepPercent == 0 {
		p.StepPercent = DefaultStepPercent
	}
	if p.Extension == 0 {
		p.Extension = DefaultExtension
	}
	if p.MaxBid != nil && p.MaxBid.Sign() == 0 {
		p.MaxBid = nil
	}
	return p
}

// Validate reports the first rule p breaks, with the same rules the item
// contract applies.
func (p AuctionParams) Validate() error {
	p = p.withDefaults()
	if p.MinBid == nil || p.MinBid.Sign() <= 0 {
		return fmt.Errorf("market: auction minimum bid %v must be more than zero", p.MinBid)
	}
	if p.MinBid.BitLen() > maxCoinsBits {
		return fmt.Errorf("market: auction minimum bid %s nanoTON is more than a message can carry", p.MinBid)
	}
	if p.MaxBid != nil {
		if p.MaxBid.Sign() < 0 || p.MaxBid.Cmp(p.MinBid) < 0 {
			return fmt.Errorf("market: buy-now price %s must be at least the minimum bid %s (or none)", p.MaxBid, p.MinBid)
		}
		if p.MaxBid.BitLen() > maxCoinsBits {
			return fmt.Errorf("market: buy-now price %s nanoTON is more than a message can carry", p.MaxBid)
		}
	}
	if p.StepPercent > 100 {
		return fmt.Errorf("market: auction step %d%% must be between 1 and 100", p.StepPercent)
	}
	if p.Duration < time.Second || p.Duration > MaxDuration || p.Duration%time.Second != 0 {
		return fmt.Errorf("market: auction duration %s must be whole seconds from 1 s to 365 days", p.Duration)
	}
	if p.Extension < 0 || p.Extension > MaxExtension || p.Extension%time.Second != 0 {
		return fmt.Errorf("market: auction extension %s must be whole seconds up to 7 days", p.Extension)
	}
	return nil
}

// NextMinBid is the least acceptable next bid, as the contract computes
// it: minBid before the first bid, then max(current + 1 TON,
// ceil(current × (100 + step) / 100)).
func NextMinBid(current *big.Int, step uint8, minBid *big.Int, hasBid bool) *big.Int {
	if !hasBid || current == nil {
		if minBid == nil {
			return new(big.Int)
		}
		return new(big.Int).Set(minBid)
	}
	plusOne := new(big.Int).Add(current, big.NewInt(OneTON))
	pct := new(big.Int).Mul(current, big.NewInt(100+int64(step)))
	pct.Add(pct, big.NewInt(99)).Quo(pct, big.NewInt(100))
	if pct.Cmp(plusOne) > 0 {
		return pct
	}
	return plusOne
}
