package channel

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tvm/cell"

	"github.com/tonmesh/tonmesh/internal/edverify"
)

// VoucherTag opens every signed voucher ("tvch"): a domain tag so a voucher
// signature can never be mistaken for any other signature by the same key.
const VoucherTag uint32 = 0x74766368

// Sizes of a voucher's signed bytes and of its wire form (signature first).
const (
	SigningSize = 4 + 4 + 1 + 32 + 16 // tag, global ID, workchain, channel hash, cumulative
	WireSize    = ed25519.SignatureSize + SigningSize
)

// maxCumulative is the largest amount a voucher may carry: TON's Coins
// are below 2^120.
var maxCumulative = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 120), big.NewInt(1))

// Errors of voucher checks. Payee.Accept wraps them.
var (
	ErrBadSignature = errors.New("channel: voucher signature is not the payer's")
	ErrWrongNetwork = errors.New("channel: voucher was signed for another network")
	ErrWrongChannel = errors.New("channel: voucher is for a channel this payee does not track")
	ErrStale        = errors.New("channel: voucher is not above the latest accepted one")
	ErrOverDeposit  = errors.New("channel: voucher exceeds the channel's deposit")
	ErrMalformed    = errors.New("channel: malformed voucher")
)

// Voucher promises the payee Cumulative nanoTON in total from Channel on
// the network GlobalID. A later voucher supersedes an earlier one; the
// contract pays the difference to what it has already paid.
type Voucher struct {
	GlobalID   int32
	Channel    *address.Address
	Cumulative *big.Int
}

// SigningBytes are the exact 57 bytes the payer signs and the contract
// checks with CHKSIGNS:
//
//	tag:uint32 global_id:int32 workchain:int8 channel_hash:bytes32 cumulative:uint128
//
// all big-endian (global_id and workchain two's complement).
func (v Voucher) SigningBytes() ([]byte, error) {
	if v.Channel == nil || v.Channel.Type() != address.StdAddress || v.Channel.BitsLen() != 256 {
		return nil, fmt.Errorf("%w: channel %v is not a standard address", ErrMalformed, v.Channel)
	}
	if wc := v.Channel.Workchain(); wc != 0 && wc != -1 {
		return nil, fmt.Errorf("%w: channel workchain %d (want 0 or -1)", ErrMalformed, wc)
	}
	if v.Cumulative == nil || v.Cumulative.Sign() < 0 || v.Cumulative.Cmp(maxCumulative) > 0 {
		return nil, fmt.Errorf("%w: cumulative %v must be between 0 and 2^120-1 nanoTON", ErrMalformed, v.Cumulative)
	}
	out := make([]byte, SigningSize)
	binary.BigEndian.PutUint32(out[0:4], VoucherTag)
	binary.BigEndian.PutUint32(out[4:8], uint32(v.GlobalID))
	out[8] = byte(int8(v.Channel.Workchain()))
	copy(out[9:41], v.Channel.Data())
	v.Cumulative.FillBytes(out[41:57])
	return out, nil
}

// Sign signs v with the payer's key.
func (v Voucher) Sign(key ed25519.PrivateKey) (*SignedVoucher, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("channel: sign voucher: key is %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	msg, err := v.SigningBytes()
	if err != nil {
		return nil, err
	}
	return &SignedVoucher{Voucher: v.clone(), Signature: ed25519.Sign(key, msg)}, nil
}

func (v Voucher) clone() Voucher {
	return Voucher{GlobalID: v.GlobalID, Channel: v.Channel.Copy(), Cumulative: new(big.Int).Set(v.Cumulative)}
}

// SignedVoucher is a voucher with the payer's Ed25519 signature.
type SignedVoucher struct {
	Voucher
	Signature []byte
}

// Verify checks the signature against the payer's key.
func (s *SignedVoucher) Verify(payerKey ed25519.PublicKey) error {
	msg, err := s.SigningBytes()
	if err != nil {
		return err
	}
	if len(payerKey) != ed25519.PublicKeySize || len(s.Signature) != ed25519.SignatureSize ||
		!edverify.Verify(payerKey, msg, s.Signature) {
		return ErrBadSignature
	}
	return nil
}

// MarshalBinary is the voucher's wire form: the 64-byte signature then the
// 57 signed bytes (121 bytes).
func (s *SignedVoucher) MarshalBinary() ([]byte, error) {
	msg, err := s.SigningBytes()
	if err != nil {
		return nil, err
	}
	if len(s.Signature) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: signature is %d bytes, want %d", ErrMalformed, len(s.Signature), ed25519.SignatureSize)
	}
	return append(bytes.Clone(s.Signature), msg...), nil
}

// ParseSignedVoucher decodes the wire form strictly: exactly WireSize
// bytes, the voucher tag, workchain 0 or -1, cumulative below 2^120. It
// does not check the signature (that needs the payer's key: Verify).
func ParseSignedVoucher(b []byte) (*SignedVoucher, error) {
	if len(b) != WireSize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrMalformed, len(b), WireSize)
	}
	sig, msg := b[:ed25519.SignatureSize], b[ed25519.SignatureSize:]
	if tag := binary.BigEndian.Uint32(msg[0:4]); tag != VoucherTag {
		return nil, fmt.Errorf("%w: tag %#x, want %#x", ErrMalformed, tag, VoucherTag)
	}
	wc := int8(msg[8])
	if wc != 0 && wc != -1 {
		return nil, fmt.Errorf("%w: workchain %d (want 0 or -1)", ErrMalformed, wc)
	}
	cum := new(big.Int).SetBytes(msg[41:57])
	if cum.Cmp(maxCumulative) > 0 {
		return nil, fmt.Errorf("%w: cumulative %s is not below 2^120", ErrMalformed, cum)
	}
	ch := address.NewAddress(0, byte(wc), bytes.Clone(msg[9:41]))
	ch.SetBounce(true)
	return &SignedVoucher{
		Voucher: Voucher{
			GlobalID:   int32(binary.BigEndian.Uint32(msg[4:8])),
			Channel:    ch,
			Cumulative: cum,
		},
		Signature: bytes.Clone(sig),
	}, nil
}

// Cell is the voucher as the contract reads it from a redeem body: the
// wire form's 968 bits in one cell without refs.
func (s *SignedVoucher) Cell() (*cell.Cell, error) {
	wire, err := s.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return cell.BeginCell().MustStoreSlice(wire, uint(8*len(wire))).EndCell(), nil
}
