package chat

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// Device content (the plaintext inside the ratchet), version 2: what a
// linked device sends, and what any device sends to the other devices of
// its own identity. Version 1 (content.go) stays what a primary sends to
// other identities, so a user without linked devices sends exactly what it
// did before.
//
//	version   1 byte, = 2
//	kind      1 byte: kindText, kindTimer or kindDeviceList
//	flags     1 byte: flagSync (a copy of a message of the identity's
//	          conversation with peer: its own outgoing one, or with
//	          flagIn, from the history the primary hands a new device, an
//	          incoming one); other bits zero
//	identity  uvarint length, peer ID: the sender's identity (primary)
//	listver   8 bytes: the version of that identity's device list the
//	          sender holds (0: none), so a receiver with an older one
//	          fetches the newer first
//	peer      flagSync only: uvarint length, peer ID: the conversation's
//	          other identity
//	text:     uvarint length, UTF-8 (at most MaxDeviceText)
//	timer:    4 bytes, seconds
//	list:     uvarint length, the identity's signed device list record
//	padding   zero bytes up to the next bucket size (content.go's buckets)
const (
	deviceContentVersion = 2
	kindDeviceList       = 8
	flagSync             = 1
	flagIn               = 2 // with flagSync only
	// MaxDeviceText is the largest text a linked device sends or syncs:
	// the device header takes room in the largest bucket.
	MaxDeviceText = maxBucket - 256
)

// deviceContent is a decrypted version-2 plaintext.
type deviceContent struct {
	Kind     byte
	Sync     bool
	In       bool // Sync: the copy is of an incoming message (history)
	Identity peer.ID
	ListVer  uint64
	Peer     peer.ID // Sync: the other identity of the conversation
	Text     string
	Timer    time.Duration
	List     []byte // kindDeviceList: a signed record
}

// isDeviceContent reports whether a decrypted plaintext is version 2.
func isDeviceContent(pt []byte) bool { return len(pt) > 0 && pt[0] == deviceContentVersion }

func (c *deviceContent) encode() ([]byte, error) {
	var flags byte
	if c.Sync {
		flags |= flagSync
	}
	if c.Sync && c.In {
		flags |= flagIn
	}
	out := []byte{deviceContentVersion, c.Kind, flags}
	out = wire.AppendLenPrefixed(out, []byte(c.Identity))
	out = binary.BigEndian.AppendUint64(out, c.ListVer)
	if c.Sync {
		out = wire.AppendLenPrefixed(out, []byte(c.Peer))
	}
	switch c.Kind {
	case kindText:
		if len(c.Text) > MaxDeviceText {
			return nil, fmt.Errorf("%w: text of %d bytes exceeds %d, the limit for identities with linked devices", ErrBadRequest, len(c.Text), MaxDeviceText)
		}
		out = wire.AppendLenPrefixed(out, []byte(c.Text))
	case kindTimer:
		out = binary.BigEndian.AppendUint32(out, uint32(c.Timer/time.Second))
	case kindDeviceList:
		if len(c.List) > maxDeviceRecord {
			return nil, fmt.Errorf("chat: device list of %d bytes exceeds %d", len(c.List), maxDeviceRecord)
		}
		out = wire.AppendLenPrefixed(out, c.List)
	default:
		return nil, fmt.Errorf("chat: unknown device content kind %d", c.Kind)
	}
	size := bucketFor(len(out))
	if size < 0 {
		return nil, fmt.Errorf("chat: device content of %d bytes exceeds %d", len(out), maxBucket)
	}
	padded := make([]byte, size)
	copy(padded, out)
	return padded, nil
}

// decodeDeviceContent strictly decodes a version-2 plaintext: one bucket
// long, known kind and flags, zero padding.
func decodeDeviceContent(b []byte) (*deviceContent, error) {
	if bucketFor(len(b)) != len(b) {
		return nil, fmt.Errorf("decode device content: %d bytes is not a padding bucket size", len(b))
	}
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != deviceContentVersion {
		return nil, fmt.Errorf("decode device content: unsupported version %d (want %d)", v, deviceContentVersion)
	}
	c := &deviceContent{Kind: rd.Byte("kind")}
	flags := rd.Byte("flags")
	if rd.Err() == nil && (flags&^(flagSync|flagIn) != 0 || flags == flagIn) {
		return nil, fmt.Errorf("decode device content: unknown flags %#x", flags)
	}
	c.Sync, c.In = flags&flagSync != 0, flags&flagIn != 0
	c.Identity = readPeerID(rd, "identity")
	c.ListVer = rd.Uint64("list version")
	if c.Sync {
		c.Peer = readPeerID(rd, "peer")
	}
	switch {
	case rd.Err() != nil:
	case c.Kind == kindText:
		c.Text = string(rd.LenPrefixed("text", MaxDeviceText))
	case c.Kind == kindTimer:
		c.Timer = time.Duration(rd.Uint32("timer")) * time.Second
		if c.Timer > MaxTTL {
			return nil, fmt.Errorf("decode device content: timer %v exceeds %v", c.Timer, MaxTTL)
		}
	case c.Kind == kindDeviceList && !c.Sync:
		c.List = rd.LenPrefixed("device list", maxDeviceRecord)
	default:
		return nil, fmt.Errorf("decode device content: unknown kind %d (sync %v)", c.Kind, c.Sync)
	}
	if rd.Err() != nil {
		return nil, fmt.Errorf("decode device content: %w", rd.Err())
	}
	for _, x := range rd.Rest() {
		if x != 0 {
			return nil, fmt.Errorf("decode device content: padding is not all zeros")
		}
	}
	return c, nil
}

// deviceContentOf turns a version-1 content into device content.
func deviceContentOf(c content) (*deviceContent, error) {
	switch c.Kind {
	case kindText:
		return &deviceContent{Kind: kindText, Text: c.Text}, nil
	case kindTimer:
		return &deviceContent{Kind: kindTimer, Timer: c.Timer}, nil
	}
	return nil, fmt.Errorf("chat: content kind %d does not go to linked devices", c.Kind)
}
