// Package directory lets a TON wallet address name a node: every node
// publishes a signed DHT record (namespace "wallet-peer", key = its wallet's
// raw address) saying which peer ID holds that wallet, so that a user can
// address a message or a payment to a TON address.
//
// Invariants: a record is accepted only if it is signed by the peer key it
// names (the DHT record signature) AND the wallet key it names signs the
// binding of address and peer ID, AND that wallet key derives the record's
// address for the stated wallet version and network. Nobody can claim a
// wallet they do not hold, or point a wallet at a peer that did not agree.
package directory

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/internal/edverify"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// Namespace is the DHT namespace of wallet → peer records.
const Namespace = "wallet-peer"

const (
	maxEntry  = 1024
	recordTTL = 48 * time.Hour
	signTag   = "tonmesh/v1/wallet-peer"
)

// ErrUnknown is returned by Lookup for an address no node has published.
var ErrUnknown = errors.New("directory: no node has published this wallet address")

// Entry is the value of a directory record.
type Entry struct {
	PeerID        string `json:"peer_id"`
	WalletKey     []byte `json:"wallet_key"` // Ed25519 public key, 32 bytes
	WalletVersion string `json:"wallet_version"`
	Network       string `json:"network"`
	Sig           []byte `json:"sig"` // wallet key over signTag ‖ raw address ‖ peer ID
}

func signedBytes(rawAddr, peerID string) []byte {
	return []byte(signTag + "\x00" + rawAddr + "\x00" + peerID)
}

// decodeEntry parses a record value strictly.
func decodeEntry(b []byte) (*Entry, error) {
	if len(b) > maxEntry {
		return nil, fmt.Errorf("directory: entry of %d bytes is over %d", len(b), maxEntry)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var e Entry
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("directory: decode entry: %w", err)
	}
	if dec.More() {
		return nil, errors.New("directory: trailing data after the entry")
	}
	if len(e.WalletKey) != ed25519.PublicKeySize || len(e.Sig) != ed25519.SignatureSize {
		return nil, errors.New("directory: wallet key or signature has the wrong size")
	}
	return &e, nil
}

// validate checks a record against the invariants in the package doc.
func validate(rec *p2p.SignedRecord) error {
	e, err := decodeEntry(rec.Value)
	if err != nil {
		return err
	}
	signer, err := peer.IDFromPublicKey(rec.PubKey)
	if err != nil || signer.String() != e.PeerID {
		return errors.New("directory: the record is not signed by the peer it names")
	}
	v, err := identity.ParseWalletVersion(e.WalletVersion)
	if err != nil {
		return err
	}
	n, err := identity.ParseNetwork(e.Network)
	if err != nil {
		return err
	}
	addr, err := identity.WalletAddressOf(ed25519.PublicKey(e.WalletKey), v, n)
	if err != nil {
		return err
	}
	if addr.StringRaw() != rec.Key {
		return fmt.Errorf("directory: the wallet key derives %s, not %s", addr.StringRaw(), rec.Key)
	}
	if !edverify.Verify(e.WalletKey, signedBytes(rec.Key, e.PeerID), e.Sig) {
		return errors.New("directory: the wallet key did not sign this peer")
	}
	return nil
}

// Register installs the namespace's validator; every node calls it once.
func Register(net *p2p.Network) error {
	return net.Records().Register(Namespace, p2p.RecordValidatorFunc(validate))
}

// Publish announces that id's wallet (version v on network n) is held by id's peer.
func Publish(ctx context.Context, net *p2p.Network, id *identity.Identity, v identity.WalletVersion, n identity.Network) error {
	addr, err := id.WalletAddress(v, n)
	if err != nil {
		return err
	}
	raw, pid := addr.StringRaw(), id.PeerID().String()
	e := Entry{
		PeerID: pid, WalletKey: id.WalletKey.Public().(ed25519.PublicKey),
		WalletVersion: string(v), Network: string(n),
		Sig: ed25519.Sign(id.WalletKey, signedBytes(raw, pid)),
	}
	val, _ := json.Marshal(e)
	rec, err := p2p.NewSignedRecord(id.PeerKey, Namespace, raw, uint64(time.Now().Unix()), recordTTL, val)
	if err != nil {
		return err
	}
	return net.Records().Put(ctx, rec)
}

// Lookup finds the peer that holds the wallet at addr.
func Lookup(ctx context.Context, net *p2p.Network, addr *address.Address) (peer.ID, error) {
	rec, err := net.Records().Get(ctx, Namespace, addr.StringRaw())
	if errors.Is(err, p2p.ErrNotFound) {
		return "", fmt.Errorf("%w: %s (its node must be online once to publish it)", ErrUnknown, addr.StringRaw())
	}
	if err != nil {
		return "", fmt.Errorf("directory: look up %s: %w", addr.StringRaw(), err)
	}
	e, err := decodeEntry(rec.Value)
	if err != nil {
		return "", err
	}
	return peer.Decode(e.PeerID)
}
