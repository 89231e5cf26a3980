package wallet

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// NanoPerTON is the number of nanoTON in one TON.
const NanoPerTON = 1_000_000_000

// tonDecimals is how many decimals a TON amount can have.
const tonDecimals = 9

// maxCoins is the largest amount a TON message can carry: Coins are a
// VarUInteger 16, at most 2^120-1 nanoTON.
var maxCoins = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 120), big.NewInt(1))

// maxAmountText bounds the text ParseTON looks at, so a huge input costs
// nothing: 2^120 nanoTON has 28 integer digits in TON.
const maxAmountText = 64

// ErrBadAmount is wrapped by every ParseTON error.
var ErrBadAmount = errors.New("wallet: bad amount")

// ParseTON reads an amount written in TON ("1", "1.5", "0.000000001") and
// returns it in nanoTON. It accepts digits with at most one '.' and at most
// 9 decimals; no sign, no exponent, no thousands separators. Surrounding
// spaces are ignored. Zero is a valid amount; callers that need a positive
// one check it.
func ParseTON(s string) (*big.Int, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxAmountText {
		return nil, fmt.Errorf("%w: %d characters is too long for an amount in TON", ErrBadAmount, len(s))
	}
	switch {
	case s == "":
		return nil, fmt.Errorf("%w: empty: write an amount in TON, e.g. 1.5", ErrBadAmount)
	case s[0] == '-':
		return nil, fmt.Errorf("%w: %q is negative: amounts are positive TON, e.g. 1.5", ErrBadAmount, s)
	case strings.Contains(s, ","):
		return nil, fmt.Errorf("%w: %q: use '.' as the decimal point, without thousands separators", ErrBadAmount, s)
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if !digits(whole) || (hasDot && !digits(frac)) {
		return nil, fmt.Errorf("%w: %q is not a number of TON: use digits and at most one '.', e.g. 1.5", ErrBadAmount, s)
	}
	if len(frac) > tonDecimals {
		return nil, fmt.Errorf("%w: %q has %d decimals; TON has at most %d (1 nanoTON = 0.000000001)", ErrBadAmount, s, len(frac), tonDecimals)
	}
	nano, ok := new(big.Int).SetString(whole+frac+strings.Repeat("0", tonDecimals-len(frac)), 10)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a number of TON", ErrBadAmount, s)
	}
	if nano.Cmp(maxCoins) > 0 {
		return nil, fmt.Errorf("%w: %q is more than a TON message can carry", ErrBadAmount, s)
	}
	return nano, nil
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatTON prints nano nanoTON in TON the way TON wallets do: no trailing
// zeros and no trailing '.' ("1.5", "2", "0.000000001"), a '-' for a
// negative amount, "0" for nil.
func FormatTON(nano *big.Int) string {
	if nano == nil {
		return "0"
	}
	sign := ""
	abs := new(big.Int).Set(nano)
	if abs.Sign() < 0 {
		sign = "-"
		abs.Neg(abs)
	}
	whole, frac := new(big.Int).QuoRem(abs, big.NewInt(NanoPerTON), new(big.Int))
	if frac.Sign() == 0 {
		return sign + whole.String()
	}
	f := strings.TrimRight(fmt.Sprintf("%09d", frac.Uint64()), "0")
	return sign + whole.String() + "." + f
}
