package attest

import (
	"crypto/sha512"
	"encoding/binary"
	"slices"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// reportDataTag domain-separates tonmesh's report data from any other use
// of a TEE's report data field.
const reportDataTag = "tonmesh/compute/attest/v1"

// Claims is what a worker's evidence vouches for.
type Claims struct {
	HPKEKey []byte   // the worker's HPKE public key (compute/seal)
	NodeKey string   // the worker's peer ID
	Expiry  int64    // unix seconds after which the claims are not accepted
	Models  []string // weights hashes of the models served
}

// canonical encodes c: each field length-prefixed (uvarint), Expiry as a
// big-endian 64-bit integer, the models sorted and preceded by their count.
func (c Claims) canonical() []byte {
	models := slices.Clone(c.Models)
	slices.Sort(models)
	b := wire.AppendLenPrefixed(nil, c.HPKEKey)
	b = wire.AppendLenPrefixed(b, []byte(c.NodeKey))
	b = binary.BigEndian.AppendUint64(b, uint64(c.Expiry))
	b = binary.AppendUvarint(b, uint64(len(models)))
	for _, m := range models {
		b = wire.AppendLenPrefixed(b, []byte(m))
	}
	return b
}

// ReportData returns the 64 bytes a TEE report must carry to vouch for c:
// SHA-512(domain tag ‖ canonical claims).
func ReportData(c Claims) [64]byte {
	return sha512.Sum512(append([]byte(reportDataTag), c.canonical()...))
}
