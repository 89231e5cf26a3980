package shard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/edverify"
	"github.com/tonmesh/tonmesh/internal/wire"
)

// Receipt wire format, version 1:
//
//	version   1 byte, = 1
//	cid       uvarint length, CID bytes (CIDv1 raw, BLAKE3 or sha2-256)
//	size      uvarint, shard length in bytes
//	holder    uvarint length, peer ID bytes
//	time      8 bytes big-endian, unix milliseconds
//	signature uvarint length, signature bytes
//
// The signature is by the holder's peer key over receiptTag ‖ every byte
// before the signature field.
const (
	receiptVersion = 1
	receiptTag     = "tonmesh/vault/shard/receipt/v1"
	maxCIDLen      = 64
	maxPeerIDLen   = 128
	maxSigLen      = 128
	// maxReceipt bounds an encoded receipt.
	maxReceipt = 1 + 1 + maxCIDLen + 10 + 2 + maxPeerIDLen + 8 + 2 + maxSigLen
)

// errBadReceipt is wrapped by every receipt verification failure.
var errBadReceipt = errors.New("receipt is not validly signed by its holder")

// Receipt is a holder's signed statement that it durably stored a shard.
type Receipt struct {
	CID       cid.Cid
	Size      int
	Holder    peer.ID
	Time      time.Time // millisecond precision
	Signature []byte
}

// body encodes every field but the signature.
func (r *Receipt) body() []byte {
	out := []byte{receiptVersion}
	out = wire.AppendLenPrefixed(out, r.CID.Bytes())
	out = binary.AppendUvarint(out, uint64(r.Size))
	out = wire.AppendLenPrefixed(out, []byte(r.Holder))
	return binary.BigEndian.AppendUint64(out, uint64(r.Time.UnixMilli()))
}

// Marshal encodes the receipt, signature included.
func (r *Receipt) Marshal() []byte {
	return wire.AppendLenPrefixed(r.body(), r.Signature)
}

// signReceipt makes a receipt for a shard stored now by the owner of key.
func signReceipt(key crypto.PrivKey, holder peer.ID, c cid.Cid, size int, now time.Time) (*Receipt, error) {
	r := &Receipt{CID: c, Size: size, Holder: holder, Time: time.UnixMilli(now.UnixMilli())}
	sig, err := key.Sign(append([]byte(receiptTag), r.body()...))
	if err != nil {
		return nil, fmt.Errorf("shard: sign receipt: %w", err)
	}
	r.Signature = sig
	return r, nil
}

// Verify checks that Signature is the Holder's over the other fields. The
// holder's public key comes from its peer ID, which embeds Ed25519 keys.
func (r *Receipt) Verify() error {
	if !r.CID.Defined() || r.Holder == "" {
		return fmt.Errorf("shard: %w: CID or holder missing", errBadReceipt)
	}
	pub, err := r.Holder.ExtractPublicKey()
	if err != nil {
		return fmt.Errorf("shard: %w: holder %s: no public key in the peer ID: %v", errBadReceipt, r.Holder, err)
	}
	ok, err := edverify.PeerKey(pub, append([]byte(receiptTag), r.body()...), r.Signature)
	if err != nil || !ok {
		return fmt.Errorf("shard: %w (holder %s, shard %s)", errBadReceipt, r.Holder, r.CID)
	}
	return nil
}

// UnmarshalReceipt strictly decodes a receipt. It does not verify the
// signature (Verify does).
func UnmarshalReceipt(b []byte) (*Receipt, error) {
	if len(b) > maxReceipt {
		return nil, fmt.Errorf("shard: decode receipt: %d bytes exceeds %d", len(b), maxReceipt)
	}
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != receiptVersion {
		return nil, fmt.Errorf("shard: decode receipt: unsupported version %d (want %d)", v, receiptVersion)
	}
	r := &Receipt{CID: readCID(rd, "cid")}
	size := rd.Uvarint("size")
	r.Holder = readPeerID(rd, "holder")
	ms := rd.Uint64("time")
	r.Signature = append([]byte(nil), rd.LenPrefixed("signature", maxSigLen)...)
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("shard: decode receipt: %w", err)
	}
	if size > MaxShardSize {
		return nil, fmt.Errorf("shard: decode receipt: size %d exceeds %d", size, MaxShardSize)
	}
	if ms == 0 || ms > math.MaxInt64 {
		return nil, fmt.Errorf("shard: decode receipt: time %d is out of range", ms)
	}
	r.Size = int(size)
	r.Time = time.UnixMilli(int64(ms))
	return r, nil
}

// readCID reads a length-prefixed CID and accepts only canonical CIDv1 raw
// BLAKE3 or sha2-256 shard IDs.
func readCID(rd *wire.Reader, what string) cid.Cid {
	raw := rd.LenPrefixed(what, maxCIDLen)
	if rd.Err() != nil {
		return cid.Undef
	}
	n, c, err := cid.CidFromBytes(raw)
	switch {
	case err != nil:
		rd.Fail(fmt.Errorf("%s: not a CID: %w", what, err))
	case n != len(raw) || !bytes.Equal(c.Bytes(), raw):
		rd.Fail(fmt.Errorf("%s: not a canonically encoded CID", what))
	default:
		if err := checkCIDFormat(c); err != nil {
			rd.Fail(fmt.Errorf("%s: %w", what, err))
		}
	}
	if rd.Err() != nil {
		return cid.Undef
	}
	return c
}

// readPeerID reads a length-prefixed peer ID.
func readPeerID(rd *wire.Reader, what string) peer.ID {
	raw := rd.LenPrefixed(what, maxPeerIDLen)
	if rd.Err() != nil {
		return ""
	}
	id, err := peer.IDFromBytes(raw)
	if err != nil {
		rd.Fail(fmt.Errorf("%s: not a peer ID: %w", what, err))
		return ""
	}
	return id
}
