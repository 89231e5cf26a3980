package chat

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/edverify"
	"github.com/tonmesh/tonmesh/internal/wire"
)

// Group wire formats, version 1 (big-endian, strict, one encoding each).
//
// Signed group state, carried inside pairwise ratchet messages (groupCtl):
//
//	version  1 byte, = 1
//	group    16 bytes, random group ID
//	epoch    4 bytes, 1 at creation, +1 (at least) per change
//	name     uvarint length, UTF-8 (at most maxGroupName bytes)
//	timer    4 bytes, the group's default message timer in seconds
//	admins   uvarint count, count × (uvarint length, peer ID), ascending
//	members  uvarint count, count × (uvarint length, peer ID), ascending
//	signer   uvarint length, peer ID
//	sig      64 bytes, Ed25519 by the signer's peer key over
//	         groupStateDomain || every byte above
//
// Admins are members; the lists are strictly ascending (so unique).
//
// Group control (the payload of content kind kindGroup):
//
//	version  1 byte, = 1
//	type     1 byte: ctlState or ctlSenderKey
//	state:   uvarint length, signed group state
//	key:     group 16 | epoch 4 | chain key 32 | signing public key 32
//
// Group message body (the body of an envelope of version envelopeGroup):
//
//	version  1 byte, = 1
//	group    16 bytes
//	epoch    4 bytes
//	index    4 bytes, position in the sender's chain for this epoch
//	sealed   uvarint length, ChaCha20-Poly1305 ciphertext of padded content
//	sig      64 bytes, Ed25519 by the sender key's signing key over
//	         groupMsgDomain || sender || id || sent || ttl || every byte above
//
// The sealed content's associated data is groupADDomain followed by the same
// bytes, so a body cannot move to another sender, message, time or timer.
const (
	groupWireVersion = 1
	groupIDLen       = 16
	groupStateDomain = "tonmesh/chat/group-state/v1"
	groupMsgDomain   = "tonmesh/chat/group-msg/v1"
	groupADDomain    = "tonmesh/chat/group-ad/v1"
	// MaxGroupMembers is the largest group.
	MaxGroupMembers = 200
	maxGroupName    = 128
	// maxGroupState bounds an encoded state: every member an admin.
	maxGroupState = 256 + maxGroupName + 2*MaxGroupMembers*(maxPeerIDLen+1) + maxPeerIDLen

	ctlState     = 1
	ctlSenderKey = 2
)

// GroupID identifies a group.
type GroupID [groupIDLen]byte

// String is the ID in hex.
func (g GroupID) String() string { return hex.EncodeToString(g[:]) }

// ParseGroupID reads a group ID in hex.
func ParseGroupID(s string) (GroupID, error) {
	var g GroupID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != groupIDLen {
		return g, fmt.Errorf("%w: %q is not a group ID (32 hex digits; `tonmesh chat group list` shows them)", ErrBadRequest, s)
	}
	copy(g[:], b)
	return g, nil
}

// groupState is one epoch of a group: who is in it, who may change it, its
// name and timer, signed by the admin who made the change (or, for a leave,
// the member who left).
type groupState struct {
	Group   GroupID
	Epoch   uint32
	Name    string
	Timer   time.Duration
	Admins  []peer.ID
	Members []peer.ID
	Signer  peer.ID
	Sig     []byte
}

func (g *groupState) isMember(p peer.ID) bool {
	_, ok := slices.BinarySearchFunc(g.Members, p, cmpPeer)
	return ok
}

func (g *groupState) isAdmin(p peer.ID) bool {
	_, ok := slices.BinarySearchFunc(g.Admins, p, cmpPeer)
	return ok
}

func cmpPeer(a, b peer.ID) int { return bytes.Compare([]byte(a), []byte(b)) }

// sortPeers sorts and deduplicates ps (canonical order of the state).
func sortPeers(ps []peer.ID) []peer.ID {
	ps = slices.Clone(ps)
	slices.SortFunc(ps, cmpPeer)
	return slices.Compact(ps)
}

func (g *groupState) unsigned() []byte {
	out := []byte{groupWireVersion}
	out = append(out, g.Group[:]...)
	out = binary.BigEndian.AppendUint32(out, g.Epoch)
	out = wire.AppendLenPrefixed(out, []byte(g.Name))
	out = binary.BigEndian.AppendUint32(out, uint32(g.Timer/time.Second))
	for _, list := range [][]peer.ID{g.Admins, g.Members} {
		out = binary.AppendUvarint(out, uint64(len(list)))
		for _, p := range list {
			out = wire.AppendLenPrefixed(out, []byte(p))
		}
	}
	return wire.AppendLenPrefixed(out, []byte(g.Signer))
}

// check enforces the rules every state obeys, whoever made it.
func (g *groupState) check() error {
	switch {
	case g.Epoch == 0:
		return errors.New("group state: epoch 0")
	case len(g.Name) > maxGroupName || !utf8.ValidString(g.Name):
		return fmt.Errorf("group state: the name must be UTF-8 of at most %d bytes", maxGroupName)
	case g.Timer < 0 || g.Timer > MaxTTL || g.Timer%time.Second != 0:
		return fmt.Errorf("group state: timer %v out of range", g.Timer)
	case len(g.Members) == 0 || len(g.Members) > MaxGroupMembers:
		return fmt.Errorf("group state: %d members (want 1..%d)", len(g.Members), MaxGroupMembers)
	case len(g.Admins) == 0:
		return errors.New("group state: no admin")
	}
	for _, list := range [][]peer.ID{g.Admins, g.Members} {
		for i := 1; i < len(list); i++ {
			if cmpPeer(list[i-1], list[i]) >= 0 {
				return errors.New("group state: peer lists must be strictly ascending")
			}
		}
	}
	for _, a := range g.Admins {
		if !g.isMember(a) {
			return fmt.Errorf("group state: admin %s is not a member", a)
		}
	}
	return nil
}

// sign checks and signs the state with priv, the signer's peer key.
func (g *groupState) sign(priv crypto.PrivKey) ([]byte, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	body := g.unsigned()
	sig, err := priv.Sign(append([]byte(groupStateDomain), body...))
	if err != nil {
		return nil, fmt.Errorf("chat: sign group state: %w", err)
	}
	g.Sig = sig
	return append(body, sig...), nil
}

func (g *groupState) encode() []byte { return append(g.unsigned(), g.Sig...) }

// verify checks the signature against the signer's peer ID.
func (g *groupState) verify() error {
	pub, err := g.Signer.ExtractPublicKey()
	if err != nil {
		return fmt.Errorf("group state signer %s: %w", g.Signer, err)
	}
	ok, err := edverify.PeerKey(pub, append([]byte(groupStateDomain), g.unsigned()...), g.Sig)
	if err != nil || !ok {
		return fmt.Errorf("group state of epoch %d by %s: %w", g.Epoch, g.Signer, errBadSignature)
	}
	return nil
}

// decodeGroupState strictly decodes b and checks the state's rules, not its
// signature (see verify).
func decodeGroupState(b []byte) (*groupState, error) {
	if len(b) > maxGroupState {
		return nil, fmt.Errorf("decode group state: %d bytes exceeds %d", len(b), maxGroupState)
	}
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != groupWireVersion {
		return nil, fmt.Errorf("decode group state: unsupported version %d (want %d)", v, groupWireVersion)
	}
	g := &groupState{}
	copy(g.Group[:], rd.Fixed("group", groupIDLen))
	g.Epoch = rd.Uint32("epoch")
	g.Name = string(rd.LenPrefixed("name", maxGroupName))
	g.Timer = time.Duration(rd.Uint32("timer")) * time.Second
	for _, list := range []*[]peer.ID{&g.Admins, &g.Members} {
		n := rd.Uvarint("count")
		if rd.Err() == nil && n > MaxGroupMembers {
			return nil, fmt.Errorf("decode group state: %d peers exceeds %d", n, MaxGroupMembers)
		}
		for i := 0; rd.Err() == nil && i < int(n); i++ {
			*list = append(*list, readPeerID(rd, "peer"))
		}
	}
	g.Signer = readPeerID(rd, "signer")
	g.Sig = rd.Fixed("signature", sigLen)
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode group state: %w", err)
	}
	if err := g.check(); err != nil {
		return nil, fmt.Errorf("decode %w", err)
	}
	return g, nil
}

// groupCtl is a group control message, sent pairwise (inside the ratchet)
// so that only its sender can have made it.
type groupCtl struct {
	Type  byte
	State []byte // ctlState: the signed state
	// ctlSenderKey: the sender's chain for one epoch, from its start.
	Group GroupID
	Epoch uint32
	Chain [32]byte
	Pub   ed25519.PublicKey
}

func (c *groupCtl) encode() []byte {
	out := []byte{groupWireVersion, c.Type}
	switch c.Type {
	case ctlState:
		return wire.AppendLenPrefixed(out, c.State)
	default:
		out = append(out, c.Group[:]...)
		out = binary.BigEndian.AppendUint32(out, c.Epoch)
		out = append(out, c.Chain[:]...)
		return append(out, c.Pub...)
	}
}

func decodeGroupCtl(b []byte) (*groupCtl, error) {
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != groupWireVersion {
		return nil, fmt.Errorf("decode group control: unsupported version %d (want %d)", v, groupWireVersion)
	}
	c := &groupCtl{Type: rd.Byte("type")}
	switch {
	case rd.Err() != nil:
	case c.Type == ctlState:
		c.State = rd.LenPrefixed("state", maxGroupState)
	case c.Type == ctlSenderKey:
		copy(c.Group[:], rd.Fixed("group", groupIDLen))
		c.Epoch = rd.Uint32("epoch")
		copy(c.Chain[:], rd.Fixed("chain key", 32))
		c.Pub = ed25519.PublicKey(bytes.Clone(rd.Fixed("signing key", ed25519.PublicKeySize)))
	default:
		return nil, fmt.Errorf("decode group control: unknown type %d", c.Type)
	}
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode group control: %w", err)
	}
	if c.Type == ctlSenderKey && c.Epoch == 0 {
		return nil, errors.New("decode group control: sender key for epoch 0")
	}
	return c, nil
}

// groupBody is the body of a group message envelope: one ciphertext for
// every member.
type groupBody struct {
	Group  GroupID
	Epoch  uint32
	Index  uint32
	Sealed []byte
	Sig    []byte
}

func (g *groupBody) unsigned() []byte {
	out := []byte{groupWireVersion}
	out = append(out, g.Group[:]...)
	out = binary.BigEndian.AppendUint32(out, g.Epoch)
	out = binary.BigEndian.AppendUint32(out, g.Index)
	return wire.AppendLenPrefixed(out, g.Sealed)
}

func (g *groupBody) encode() []byte { return append(g.unsigned(), g.Sig...) }

// bound returns the bytes the signature and the associated data cover,
// after domain: the envelope's sender, ID, time and timer, then the body.
func (g *groupBody) bound(domain string, sender peer.ID, id MsgID, sent time.Time, ttl time.Duration) []byte {
	out := wire.AppendLenPrefixed([]byte(domain), []byte(sender))
	out = append(out, id[:]...)
	out = binary.BigEndian.AppendUint64(out, uint64(sent.UnixMilli()))
	out = binary.BigEndian.AppendUint32(out, uint32(ttl/time.Second))
	out = append(out, g.Group[:]...)
	out = binary.BigEndian.AppendUint32(out, g.Epoch)
	out = binary.BigEndian.AppendUint32(out, g.Index)
	if domain == groupMsgDomain {
		out = wire.AppendLenPrefixed(out, g.Sealed)
	}
	return out
}

func decodeGroupBody(b []byte) (*groupBody, error) {
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != groupWireVersion {
		return nil, fmt.Errorf("decode group message: unsupported version %d (want %d)", v, groupWireVersion)
	}
	g := &groupBody{}
	copy(g.Group[:], rd.Fixed("group", groupIDLen))
	g.Epoch = rd.Uint32("epoch")
	g.Index = rd.Uint32("index")
	g.Sealed = rd.LenPrefixed("sealed", maxBody)
	g.Sig = rd.Fixed("signature", sigLen)
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode group message: %w", err)
	}
	if g.Epoch == 0 {
		return nil, errors.New("decode group message: epoch 0")
	}
	return g, nil
}
