package toncenter

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/xssnick/tonutils-go/address"
)

// params are a request's parameters: strings from the query, JSON values
// (numbers as json.Number) from a body.
type params map[string]any

// str returns a string parameter; numbers are taken as their text.
func (p params) str(key string) (string, bool, error) {
	switch v := p[key].(type) {
	case nil:
		return "", false, nil
	case string:
		return v, true, nil
	case json.Number:
		return v.String(), true, nil
	default:
		return "", false, errf(422, "Validation error: %s: want a string", key)
	}
}

// need returns a required string parameter.
func (p params) need(key string) (string, error) {
	s, ok, err := p.str(key)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errf(422, "Validation error: %s: field required", key)
	}
	return s, nil
}

// uint returns an unsigned integer parameter (given as a number or a
// decimal string), def when absent.
func (p params) uint(key string, def uint64) (uint64, error) {
	s, ok, err := p.str(key)
	if err != nil || !ok {
		return def, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, errf(422, "Validation error: %s: value is not a valid integer", key)
	}
	return n, nil
}

// boolean returns a boolean parameter (true/false, 1/0), def when absent.
func (p params) boolean(key string, def bool) (bool, error) {
	switch v := p[key].(type) {
	case nil:
		return def, nil
	case bool:
		return v, nil
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, errf(422, "Validation error: %s: value could not be parsed to a boolean", key)
		}
		return b, nil
	case json.Number:
		return v.String() != "0", nil
	default:
		return false, errf(422, "Validation error: %s: value could not be parsed to a boolean", key)
	}
}

// address parses the parameter "address" in any form toncenter accepts:
// raw (workchain:hex) or user-friendly (base64 or base64url, 48
// characters, with a good checksum). A bad one is toncenter's 416.
func (p params) address(key string) (*address.Address, error) {
	s, err := p.need(key)
	if err != nil {
		return nil, err
	}
	a, err := parseAddress(s)
	if err != nil {
		return nil, errAddress
	}
	return a, nil
}

func parseAddress(s string) (*address.Address, error) {
	s = strings.TrimSpace(s)
	if len(s) > 100 {
		return nil, fmt.Errorf("too long")
	}
	if strings.Contains(s, ":") {
		parts := strings.SplitN(s, ":", 2)
		wc, err := strconv.ParseInt(parts[0], 10, 8)
		if err != nil || len(parts[1]) != 64 {
			return nil, fmt.Errorf("bad raw address")
		}
		data, err := hex.DecodeString(parts[1])
		if err != nil {
			return nil, err
		}
		return address.NewAddress(0, byte(int8(wc)), data), nil
	}
	if len(s) != 48 {
		return nil, fmt.Errorf("bad length")
	}
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	a, err := address.ParseAddr(s)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// txHash parses a transaction hash given in base64, base64url or hex.
func txHash(s string) ([]byte, error) {
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errf(422, "Validation error: hash: want 32 bytes in base64 or hex")
}

// decodeB64 decodes base64 in the standard or URL alphabet, padded or not.
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64")
}
