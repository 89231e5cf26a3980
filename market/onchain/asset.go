package onchain

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"

	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Kind is what sort of asset an item is.
type Kind string

const (
	// Username is an "@name": 5 to 32 of a-z, 0-9 and _, starting with a
	// letter, case-insensitive.
	Username Kind = "username"
	// Number is an anonymous "+888 XXXX XXXX" number: 888 and 8 digits.
	Number Kind = "number"
)

// Limits of asset names.
const (
	MinUsernameLen = 5
	MaxUsernameLen = 32
	// NumberPrefix starts every anonymous number; NumberDigits follow it.
	NumberPrefix = "888"
	NumberDigits = 8
)

// Asset is a username or a number in its canonical form: Name is the
// lowercase username without "@", or the 11 digits "888XXXXXXXX". The zero
// Asset is no asset; ParseAsset never returns it.
type Asset struct {
	Kind Kind
	Name string
}

// ParseAsset reads an asset the way people write it: "@Name" or "name"
// (a username, case-insensitive), "+888 1234 5678", "+88812345678" or
// "88812345678" (a number; spaces and dashes between digits are allowed).
// Errors say which rule the input breaks.
func ParseAsset(s string) (Asset, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Asset{}, fmt.Errorf("market: empty asset: give a username like @alice or a number like +888 1234 5678")
	}
	if s[0] == '+' || (s[0] >= '0' && s[0] <= '9') {
		return parseNumber(s)
	}
	return parseUsername(s)
}

func parseNumber(s string) (Asset, error) {
	digits := make([]byte, 0, len(NumberPrefix)+NumberDigits)
	for i, r := range strings.TrimPrefix(s, "+") {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case (r == ' ' || r == '-') && i > 0:
		default:
			return Asset{}, fmt.Errorf("market: number %q: only digits, spaces and dashes may follow the +", s)
		}
		if len(digits) > len(NumberPrefix)+NumberDigits {
			break
		}
	}
	if len(digits) != len(NumberPrefix)+NumberDigits || !strings.HasPrefix(string(digits), NumberPrefix) {
		return Asset{}, fmt.Errorf("market: number %q: an anonymous number is +%s followed by %d digits (e.g. +888 1234 5678)", s, NumberPrefix, NumberDigits)
	}
	return Asset{Kind: Number, Name: string(digits)}, nil
}

func parseUsername(s string) (Asset, error) {
	name := strings.ToLower(strings.TrimPrefix(s, "@"))
	if err := checkUsername(name); err != nil {
		return Asset{}, fmt.Errorf("market: username %q: %w", s, err)
	}
	return Asset{Kind: Username, Name: name}, nil
}

// checkUsername applies the username rules to a lowercase name.
func checkUsername(name string) error {
	if n := len(name); n < MinUsernameLen || n > MaxUsernameLen {
		return fmt.Errorf("a username has %d to %d characters, this one %d", MinUsernameLen, MaxUsernameLen, n)
	}
	if name[0] < 'a' || name[0] > 'z' {
		return fmt.Errorf("a username starts with a letter")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("a username has only letters a-z, digits and _ (found %q)", c)
		}
	}
	return nil
}

// Validate reports whether a is a canonical asset, as ParseAsset returns.
func (a Asset) Validate() error {
	switch a.Kind {
	case Username:
		if err := checkUsername(a.Name); err != nil {
			return fmt.Errorf("market: username %q: %w", a.Name, err)
		}
		return nil
	case Number:
		p, err := parseNumber(a.Name)
		if err != nil || p.Name != a.Name {
			return fmt.Errorf("market: number %q is not %s followed by %d digits", a.Name, NumberPrefix, NumberDigits)
		}
		return nil
	default:
		return fmt.Errorf("market: asset kind %q: want %q or %q", a.Kind, Username, Number)
	}
}

// String is "@name" or "+888 1234 5678"; "" for the zero Asset.
func (a Asset) String() string {
	switch {
	case a.Kind == Number && len(a.Name) == len(NumberPrefix)+NumberDigits:
		return "+" + a.Name[:3] + " " + a.Name[3:7] + " " + a.Name[7:]
	case a.Kind == Username:
		return "@" + a.Name
	default:
		return a.Name
	}
}

// MarshalText writes String, so assets read naturally in JSON.
func (a Asset) MarshalText() ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return []byte(a.String()), nil
}

// UnmarshalText reads what ParseAsset reads.
func (a *Asset) UnmarshalText(b []byte) error {
	p, err := ParseAsset(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}

// Index is the item's index in the collection: the SHA-256 of the
// canonical name, as a uint256 (the contract computes the same).
func (a Asset) Index() *big.Int {
	h := sha256.Sum256([]byte(a.Name))
	return new(big.Int).SetBytes(h[:])
}

// nameCell is the canonical name's bytes in one cell, as the contracts
// store it.
func (a Asset) nameCell() *cell.Cell {
	return cell.BeginCell().MustStoreSlice([]byte(a.Name), uint(8*len(a.Name))).EndCell()
}

// RandomNumber picks an anonymous number uniformly at random (the caller
// checks it is not minted yet).
func RandomNumber() Asset {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		// crypto/rand does not fail on supported platforms.
		panic(fmt.Sprintf("market: crypto/rand failed: %v", err))
	}
	return Asset{Kind: Number, Name: fmt.Sprintf("%s%08d", NumberPrefix, n.Int64())}
}
