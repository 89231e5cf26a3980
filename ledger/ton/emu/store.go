package emu

import (
	"encoding/binary"
	"fmt"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Key prefixes inside the chain's ledger space.
const (
	prefixAccount = 'a'
	prefixTx      = 't'
)

var keyMeta = []byte("m")

// acctKey identifies an account: workchain byte then the 256-bit hash.
type acctKey [33]byte

func keyOf(addr *address.Address) acctKey {
	var k acctKey
	k[0] = byte(int8(addr.Workchain()))
	copy(k[1:], addr.Data())
	return k
}

func (k acctKey) address() *address.Address {
	return address.NewAddress(0, k[0], append([]byte(nil), k[1:]...))
}

func accountKey(k acctKey) []byte {
	return append([]byte{prefixAccount}, k[:]...)
}

func txPrefix(k acctKey) []byte {
	return append([]byte{prefixTx}, k[:]...)
}

func txKey(k acctKey, lt uint64) []byte {
	return binary.BigEndian.AppendUint64(txPrefix(k), lt)
}

// accountEntry is an account as the executor needs it.
type accountEntry struct {
	prepared *tvm.PreparedAccount
	// stat is the storage-stat dictionary the previous transaction left,
	// fed to the next one; nil when unknown (it is then recomputed).
	stat *cell.Cell
}

// encodeAccount stores the shard account and the storage stat as one BOC:
// a root cell with a ref to the shard account and a maybe-ref to the stat.
func encodeAccount(e *accountEntry) ([]byte, error) {
	sa := e.prepared.ShardAccountCell()
	if sa == nil {
		return nil, fmt.Errorf("emu: account has no shard account cell")
	}
	b := cell.BeginCell().MustStoreRef(sa)
	if err := b.StoreMaybeRef(e.stat); err != nil {
		return nil, fmt.Errorf("emu: encode account: %w", err)
	}
	return b.EndCell().ToBOC(), nil
}

func decodeAccount(k acctKey, raw []byte) (*accountEntry, error) {
	root, err := cell.FromBOC(raw)
	if err != nil {
		return nil, fmt.Errorf("emu: stored account %s is corrupt: %w", k.address(), err)
	}
	s, err := root.BeginParse()
	if err != nil {
		return nil, fmt.Errorf("emu: stored account %s: %w", k.address(), err)
	}
	saCell, err := s.LoadRefCell()
	if err != nil {
		return nil, fmt.Errorf("emu: stored account %s: %w", k.address(), err)
	}
	hasStat, err := s.LoadBoolBit()
	if err != nil {
		return nil, fmt.Errorf("emu: stored account %s: storage stat flag: %w", k.address(), err)
	}
	var statCell *cell.Cell
	if hasStat {
		if statCell, err = s.LoadRefCell(); err != nil {
			return nil, fmt.Errorf("emu: stored account %s: storage stat: %w", k.address(), err)
		}
	}
	var sa tlb.ShardAccount
	if err := tlb.Parse(&sa, saCell); err != nil {
		return nil, fmt.Errorf("emu: stored account %s: %w", k.address(), err)
	}
	prepared, err := tvm.PrepareAccount(&sa, k.address())
	if err != nil {
		return nil, fmt.Errorf("emu: stored account %s: %w", k.address(), err)
	}
	return &accountEntry{prepared: prepared, stat: statCell}, nil
}

// emptyAccount is the state of an address that never received anything.
func emptyAccount(k acctKey) (*accountEntry, error) {
	sa := &tlb.ShardAccount{
		Account:       cell.BeginCell().MustStoreBoolBit(false).EndCell(),
		LastTransHash: make([]byte, 32),
	}
	prepared, err := tvm.PrepareAccount(sa, k.address())
	if err != nil {
		return nil, fmt.Errorf("emu: empty account %s: %w", k.address(), err)
	}
	return &accountEntry{prepared: prepared}, nil
}

// meta is the chain's clock state.
type meta struct {
	lt    uint64 // highest end LT of any transaction
	now   uint32 // unix time of the last step
	steps uint64 // steps applied, genesis included
}

func (m meta) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, m.lt)
	b = binary.BigEndian.AppendUint32(b, m.now)
	return binary.BigEndian.AppendUint64(b, m.steps)
}

func decodeMeta(b []byte) (meta, error) {
	if len(b) != 20 {
		return meta{}, fmt.Errorf("emu: stored chain meta is %d bytes, want 20: the store is corrupt", len(b))
	}
	return meta{
		lt:    binary.BigEndian.Uint64(b),
		now:   binary.BigEndian.Uint32(b[8:]),
		steps: binary.BigEndian.Uint64(b[12:]),
	}, nil
}
