package market

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/internal/edverify"
	"github.com/tonmesh/tonmesh/internal/wire"
	"github.com/tonmesh/tonmesh/market/onchain"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// Gossip wire format, version 1. Every payload on TopicName is
//
//	version  1 byte, = 1
//	kind     1 byte: 1 listing, 2 bid, 3 notice
//	body     as below; no trailing bytes, minimal varints
//
// listing: asset (lp), item (address), seller (address), min bid (amount),
// max bid (amount, empty = none), step percent (1 byte), duration and
// extension (uvarint seconds), end and started (uint64 unix seconds),
// tx (lp, at most 32 bytes), signer (lp peer ID bytes), signature (64 bytes:
// Ed25519 by the signer's peer key over listingTag and every byte before it).
//
// bid: asset (lp), wallet version (1 byte: 1 v5r1, 2 v4r2), wallet public
// key (32 bytes), order (lp BOC of the bidder's signed external message).
// The gossip origin's signature (GossipSub StrictSign) covers a bid; the
// order's own signature by the wallet key is what makes it a bid.
//
// notice: asset (lp): "this item exists or changed hands; read the chain".
//
// An address is its workchain (1 byte, signed) and its 32-byte hash; an
// amount is its big-endian magnitude (lp, at most 16 bytes, no leading zero).
const (
	wireVersion = 1

	kindListing byte = 1
	kindBid     byte = 2
	kindNotice  byte = 3

	listingTag = "tonmesh/market/listing/v1"

	maxAssetBytes  = 40
	maxAmountBytes = 16
	maxTxBytes     = 32
	maxPeerIDBytes = 64
	// MaxOrderBytes bounds a bid's order BOC: a wallet order with one
	// message and, for a first order, the wallet's state init.
	MaxOrderBytes = 4 << 10
	// MaxMessage is the topic's payload limit.
	MaxMessage = 8 << 10
	// maxDuration bounds durations on the wire (the contract allows 365 days).
	maxDuration = 400 * 24 * 3600
)

// Listing announces a started auction. It is signed by the peer that
// publishes it; every node checks it against the chain before showing it.
type Listing struct {
	Asset   onchain.Asset
	Item    *address.Address
	Seller  *address.Address
	Params  onchain.AuctionParams
	End     time.Time // as the chain set it when the auction started
	Started time.Time
	Tx      []byte // the start transaction's hash, when known
	Signer  peer.ID
	Sig     []byte
	raw     []byte // the encoded message, as signed
}

// Bid carries a bidder's signed wallet order to the auction's item.
type Bid struct {
	Asset     onchain.Asset
	Version   identity.WalletVersion
	WalletKey ed25519.PublicKey
	Order     []byte
}

// message is one decoded gossip payload: exactly one field is set.
type message struct {
	Listing *Listing
	Bid     *Bid
	Notice  *onchain.Asset
}

func appendAddr(b []byte, a *address.Address) []byte {
	b = append(b, byte(int8(a.Workchain())))
	return append(b, a.Data()...)
}

func appendAmount(b []byte, n *big.Int) []byte {
	if n == nil {
		return wire.AppendLenPrefixed(b, nil)
	}
	return wire.AppendLenPrefixed(b, n.Bytes())
}

func readAddr(r *wire.Reader, what string) *address.Address {
	wc := int8(r.Byte(what + " workchain"))
	h := r.Fixed(what, 32)
	if r.Err() != nil {
		return nil
	}
	if wc != 0 && wc != -1 {
		r.Fail(fmt.Errorf("%s: workchain %d (TON has 0 and -1)", what, wc))
		return nil
	}
	return address.NewAddress(0, byte(wc), bytes.Clone(h))
}

func readAmount(r *wire.Reader, what string) *big.Int {
	b := r.LenPrefixed(what, maxAmountBytes)
	if r.Err() != nil || len(b) == 0 {
		return nil
	}
	if b[0] == 0 {
		r.Fail(fmt.Errorf("%s: leading zero byte", what))
		return nil
	}
	return new(big.Int).SetBytes(b)
}

func readAsset(r *wire.Reader) onchain.Asset {
	b := r.LenPrefixed("asset", maxAssetBytes)
	if r.Err() != nil {
		return onchain.Asset{}
	}
	a, err := onchain.ParseAsset(string(b))
	if err != nil {
		r.Fail(fmt.Errorf("asset: %w", err))
		return onchain.Asset{}
	}
	if a.Name != string(b) {
		r.Fail(fmt.Errorf("asset %q is not in canonical form %q", b, a.Name))
	}
	return a
}

// signedPart is what a listing's signature covers.
func (l *Listing) unsigned() ([]byte, error) {
	if l.Item == nil || l.Seller == nil {
		return nil, errors.New("listing needs item and seller addresses")
	}
	if l.Params.MinBid == nil || l.Params.MinBid.Sign() <= 0 {
		return nil, errors.New("listing needs a positive minimum bid")
	}
	b := []byte{wireVersion, kindListing}
	b = wire.AppendLenPrefixed(b, []byte(l.Asset.Name))
	b = appendAddr(b, l.Item)
	b = appendAddr(b, l.Seller)
	b = appendAmount(b, l.Params.MinBid)
	b = appendAmount(b, l.Params.MaxBid)
	b = append(b, l.Params.StepPercent)
	b = binary.AppendUvarint(b, uint64(l.Params.Duration/time.Second))
	b = binary.AppendUvarint(b, uint64(l.Params.Extension/time.Second))
	b = binary.BigEndian.AppendUint64(b, uint64(l.End.Unix()))
	b = binary.BigEndian.AppendUint64(b, uint64(l.Started.Unix()))
	b = wire.AppendLenPrefixed(b, l.Tx)
	b = wire.AppendLenPrefixed(b, []byte(l.Signer))
	return b, nil
}

// signListing fills Signer and Sig with key's signature and returns the
// encoded message.
func signListing(l *Listing, key crypto.PrivKey) ([]byte, error) {
	pid, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("market: listing signer: %w", err)
	}
	l.Signer = pid
	b, err := l.unsigned()
	if err != nil {
		return nil, fmt.Errorf("market: encode listing: %w", err)
	}
	sig, err := key.Sign(append([]byte(listingTag), b...))
	if err != nil {
		return nil, fmt.Errorf("market: sign listing: %w", err)
	}
	l.Sig = sig
	l.raw = append(b, sig...)
	return l.raw, nil
}

// verify checks the listing's signature by its signer's peer key.
func (l *Listing) verify() error {
	pub, err := l.Signer.ExtractPublicKey()
	if err != nil {
		return fmt.Errorf("listing signer %s: no public key in the peer ID: %w", l.Signer, err)
	}
	body := l.raw[:len(l.raw)-ed25519.SignatureSize]
	ok, err := edverify.PeerKey(pub, append([]byte(listingTag), body...), l.Sig)
	if err != nil || !ok {
		return fmt.Errorf("listing signature by %s does not verify", l.Signer)
	}
	return nil
}

func encodeBid(b *Bid) ([]byte, error) {
	v, err := versionByte(b.Version)
	if err != nil {
		return nil, err
	}
	if len(b.WalletKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("market: bid wallet key is %d bytes, want %d", len(b.WalletKey), ed25519.PublicKeySize)
	}
	if len(b.Order) == 0 || len(b.Order) > MaxOrderBytes {
		return nil, fmt.Errorf("market: bid order is %d bytes, want 1 to %d", len(b.Order), MaxOrderBytes)
	}
	out := []byte{wireVersion, kindBid}
	out = wire.AppendLenPrefixed(out, []byte(b.Asset.Name))
	out = append(out, v)
	out = append(out, b.WalletKey...)
	return wire.AppendLenPrefixed(out, b.Order), nil
}

func encodeNotice(a onchain.Asset) []byte {
	return wire.AppendLenPrefixed([]byte{wireVersion, kindNotice}, []byte(a.Name))
}

func versionByte(v identity.WalletVersion) (byte, error) {
	switch v {
	case identity.V5R1:
		return 1, nil
	case identity.V4R2:
		return 2, nil
	}
	return 0, fmt.Errorf("market: wallet version %q cannot bid (use %s or %s)", v, identity.V5R1, identity.V4R2)
}

// decodeMessage strictly decodes one gossip payload. It checks form only:
// signatures, orders and chain state are the validator's business.
func decodeMessage(b []byte) (*message, error) {
	if len(b) > MaxMessage {
		return nil, fmt.Errorf("market message: %d bytes, the limit is %d", len(b), MaxMessage)
	}
	r := wire.NewReader(b)
	if v := r.Byte("version"); r.Err() == nil && v != wireVersion {
		return nil, fmt.Errorf("market message: version %d, want %d", v, wireVersion)
	}
	kind := r.Byte("kind")
	if r.Err() != nil {
		return nil, fmt.Errorf("market message: %w", r.Err())
	}
	var m message
	switch kind {
	case kindListing:
		m.Listing = readListing(r, b)
	case kindBid:
		m.Bid = readBid(r)
	case kindNotice:
		a := readAsset(r)
		m.Notice = &a
	default:
		return nil, fmt.Errorf("market message: unknown kind %d", kind)
	}
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("market message: %w", err)
	}
	return &m, nil
}

func readListing(r *wire.Reader, all []byte) *Listing {
	l := &Listing{Asset: readAsset(r)}
	l.Item = readAddr(r, "item")
	l.Seller = readAddr(r, "seller")
	l.Params.MinBid = readAmount(r, "min bid")
	l.Params.MaxBid = readAmount(r, "max bid")
	l.Params.StepPercent = r.Byte("step")
	dur, ext := r.Uvarint("duration"), r.Uvarint("extension")
	end, started := r.Uint64("end"), r.Uint64("started")
	l.Tx = bytes.Clone(r.LenPrefixed("tx", maxTxBytes))
	signer := r.LenPrefixed("signer", maxPeerIDBytes)
	l.Sig = bytes.Clone(r.Fixed("signature", ed25519.SignatureSize))
	if r.Err() != nil {
		return nil
	}
	switch {
	case l.Params.MinBid == nil:
		r.Fail(errors.New("listing: no minimum bid"))
	case dur > maxDuration || ext > maxDuration:
		r.Fail(errors.New("listing: duration or extension out of range"))
	case end == 0 || end > 1<<40 || started > end:
		r.Fail(errors.New("listing: end time out of range"))
	}
	id, err := peer.IDFromBytes(signer)
	if err != nil {
		r.Fail(fmt.Errorf("listing signer: %w", err))
	}
	if r.Err() != nil {
		return nil
	}
	l.Signer = id
	l.Params.Duration = time.Duration(dur) * time.Second
	l.Params.Extension = time.Duration(ext) * time.Second
	l.End = time.Unix(int64(end), 0)
	l.Started = time.Unix(int64(started), 0)
	l.raw = bytes.Clone(all)
	return l
}

func readBid(r *wire.Reader) *Bid {
	b := &Bid{Asset: readAsset(r)}
	switch v := r.Byte("wallet version"); v {
	case 1:
		b.Version = identity.V5R1
	case 2:
		b.Version = identity.V4R2
	default:
		r.Fail(fmt.Errorf("bid: unknown wallet version %d", v))
	}
	b.WalletKey = bytes.Clone(r.Fixed("wallet key", ed25519.PublicKeySize))
	b.Order = bytes.Clone(r.LenPrefixed("order", MaxOrderBytes))
	if r.Err() == nil && len(b.Order) == 0 {
		r.Fail(errors.New("bid: empty order"))
	}
	if r.Err() != nil {
		return nil
	}
	return b
}
