package chat

import (
	"fmt"
	"time"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// Content (the plaintext inside the ratchet), version 1:
//
//	version  1 byte, = 1
//	kind     1 byte: kindText, kindTimer or kindGroup
//	text:    uvarint length, UTF-8 bytes
//	timer:   4 bytes, the conversation's new default timer in seconds
//	group:   uvarint length, a group control message (groupwire.go); it is
//	         never shown in the pairwise conversation
//	padding  zero bytes up to the next bucket size
//
// Padding before encryption makes every ciphertext, direct or in a mailbox,
// one of a few sizes, so holders and observers learn little of the length.
const (
	contentVersion = 1
	kindText       = 1
	kindTimer      = 2
	kindGroup      = 3
	maxBucket      = 64 << 10
	// MaxText is the largest message text in bytes.
	MaxText = maxBucket - 16
)

// buckets are the padded sizes of plaintexts.
var buckets = [...]int{256, 1 << 10, 4 << 10, 16 << 10, maxBucket}

// content is a decrypted message.
type content struct {
	Kind  byte
	Text  string
	Timer time.Duration
	Ctl   []byte // kindGroup
}

// bucketFor returns the smallest bucket holding n bytes, or -1.
func bucketFor(n int) int {
	for _, b := range buckets {
		if n <= b {
			return b
		}
	}
	return -1
}

func (c content) encode() ([]byte, error) {
	out := []byte{contentVersion, c.Kind}
	switch c.Kind {
	case kindText:
		if len(c.Text) > MaxText {
			return nil, fmt.Errorf("chat: text of %d bytes exceeds %d", len(c.Text), MaxText)
		}
		out = wire.AppendLenPrefixed(out, []byte(c.Text))
	case kindTimer:
		out = append(out, 0, 0, 0, 0)
		s := uint32(c.Timer / time.Second)
		out[2], out[3], out[4], out[5] = byte(s>>24), byte(s>>16), byte(s>>8), byte(s)
	case kindGroup:
		if len(c.Ctl) > MaxText {
			return nil, fmt.Errorf("chat: group control of %d bytes exceeds %d", len(c.Ctl), MaxText)
		}
		out = wire.AppendLenPrefixed(out, c.Ctl)
	default:
		return nil, fmt.Errorf("chat: unknown content kind %d", c.Kind)
	}
	size := bucketFor(len(out))
	if size < 0 {
		return nil, fmt.Errorf("chat: content of %d bytes exceeds %d", len(out), maxBucket)
	}
	padded := make([]byte, size)
	copy(padded, out)
	return padded, nil
}

// decodeContent strictly decodes a decrypted plaintext: the padding must be
// zeros and the whole must be exactly one bucket long.
func decodeContent(b []byte) (content, error) {
	if bucketFor(len(b)) != len(b) {
		return content{}, fmt.Errorf("decode content: %d bytes is not a padding bucket size", len(b))
	}
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != contentVersion {
		return content{}, fmt.Errorf("decode content: unsupported version %d (want %d)", v, contentVersion)
	}
	c := content{Kind: rd.Byte("kind")}
	switch {
	case rd.Err() != nil:
	case c.Kind == kindText:
		c.Text = string(rd.LenPrefixed("text", MaxText))
	case c.Kind == kindGroup:
		c.Ctl = rd.LenPrefixed("group control", MaxText)
	case c.Kind == kindTimer:
		s := rd.Uint32("timer")
		c.Timer = time.Duration(s) * time.Second
		if c.Timer > MaxTTL {
			return content{}, fmt.Errorf("decode content: timer %v exceeds %v", c.Timer, MaxTTL)
		}
	default:
		return content{}, fmt.Errorf("decode content: unknown kind %d", c.Kind)
	}
	if rd.Err() != nil {
		return content{}, fmt.Errorf("decode content: %w", rd.Err())
	}
	for _, x := range rd.Rest() {
		if x != 0 {
			return content{}, fmt.Errorf("decode content: padding is not all zeros")
		}
	}
	return c, nil
}
