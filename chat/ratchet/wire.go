package ratchet

import (
	"encoding/binary"
	"fmt"
	"math"

	"golang.org/x/crypto/chacha20poly1305"
)

const (
	wireVersion = 1
	flagInit    = 1 << 0

	initHeaderSize    = keySize + keySize + 4 // IK_A, EK_A, prekey id
	ratchetHeaderSize = keySize + 4 + 4       // dh, pn, n
	tagSize           = chacha20poly1305.Overhead

	// MaxPlaintext is the largest plaintext one message carries.
	MaxPlaintext = 64 << 10
	// MaxMessageSize is the largest encoded message (init header included).
	MaxMessageSize = 2 + initHeaderSize + ratchetHeaderSize + MaxPlaintext + tagSize
	minMessageSize = 2 + ratchetHeaderSize + tagSize
)

// initHeader is the X3DH part of a message: who initiated, with which
// ephemeral key, against which of the responder's prekeys.
type initHeader struct {
	identity  key // IK_A
	ephemeral key // EK_A
	prekeyID  uint32
}

type header struct {
	hasInit bool
	init    initHeader
	dh      key
	pn, n   uint32
}

func (h *header) size() int {
	if h.hasInit {
		return 2 + initHeaderSize + ratchetHeaderSize
	}
	return 2 + ratchetHeaderSize
}

func (h *header) appendTo(out []byte) []byte {
	var flags byte
	if h.hasInit {
		flags |= flagInit
	}
	out = append(out, wireVersion, flags)
	if h.hasInit {
		out = append(out, h.init.identity[:]...)
		out = append(out, h.init.ephemeral[:]...)
		out = binary.BigEndian.AppendUint32(out, h.init.prekeyID)
	}
	out = append(out, h.dh[:]...)
	out = binary.BigEndian.AppendUint32(out, h.pn)
	return binary.BigEndian.AppendUint32(out, h.n)
}

// parseMessage splits msg into its header, the header's bytes and the sealed
// payload, checking sizes, version and flags.
func parseMessage(msg []byte) (h header, headerBytes, sealed []byte, err error) {
	if len(msg) < minMessageSize {
		return h, nil, nil, fmt.Errorf("%w: message of %d bytes is shorter than the minimum %d", ErrMalformed, len(msg), minMessageSize)
	}
	if len(msg) > MaxMessageSize {
		return h, nil, nil, fmt.Errorf("%w: message of %d bytes exceeds the maximum %d", ErrMalformed, len(msg), MaxMessageSize)
	}
	if msg[0] != wireVersion {
		return h, nil, nil, fmt.Errorf("%w: message version %d, this node knows %d", ErrMalformed, msg[0], wireVersion)
	}
	flags := msg[1]
	if flags&^flagInit != 0 {
		return h, nil, nil, fmt.Errorf("%w: message has unknown flags %#x", ErrMalformed, flags)
	}
	h.hasInit = flags&flagInit != 0
	hs := h.size()
	if len(msg) < hs+tagSize {
		return h, nil, nil, fmt.Errorf("%w: message of %d bytes is too short for its header", ErrMalformed, len(msg))
	}
	r := reader{buf: msg[2:hs]}
	if h.hasInit {
		h.init.identity = r.key()
		h.init.ephemeral = r.key()
		h.init.prekeyID = r.u32()
	}
	h.dh = r.key()
	h.pn = r.u32()
	h.n = r.u32()
	if h.n == math.MaxUint32 {
		return h, nil, nil, fmt.Errorf("%w: message index %d is out of range", ErrMalformed, h.n)
	}
	return h, msg[:hs], msg[hs:], nil
}

// IsInitMessage reports whether msg is a well-formed message that carries an
// X3DH init header: a receiver without a session with its sender calls
// Respond on it.
func IsInitMessage(msg []byte) bool {
	h, _, _, err := parseMessage(msg)
	return err == nil && h.hasInit
}

// InitInfo returns the initiator's X25519 identity key, its ephemeral key and
// the prekey id from an init message, without any key: the chat service uses
// it to find an existing session or the prekey before calling Respond. The
// values are not authenticated until a Decrypt of the message succeeds.
func InitInfo(msg []byte) (identity, ephemeral []byte, prekeyID uint32, err error) {
	h, _, _, err := parseMessage(msg)
	if err != nil {
		return nil, nil, 0, err
	}
	if !h.hasInit {
		return nil, nil, 0, fmt.Errorf("%w: message has no init header", ErrMalformed)
	}
	return h.init.identity[:], h.init.ephemeral[:], h.init.prekeyID, nil
}
