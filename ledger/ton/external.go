package ton

import (
	"fmt"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// MaxExternalSize is the largest external message BOC accepted, in bytes:
// TON's max_ext_msg_size (config param 43) on mainnet.
const MaxExternalSize = 65535

// External is a decoded external-in message.
type External struct {
	// Cell is the message as sent.
	Cell *cell.Cell
	// Msg is its parsed form; Msg.MsgType is tlb.MsgTypeExternalIn.
	Msg *tlb.Message
	// Hash is the normalised message hash (TEP-467).
	Hash []byte
}

// ParseExternal decodes boc, bytes from outside, into an external-in
// message addressed to a standard address. It never panics on bad input.
func ParseExternal(boc []byte) (ext *External, err error) {
	if len(boc) == 0 {
		return nil, fmt.Errorf("ton: external message: empty BOC")
	}
	if len(boc) > MaxExternalSize {
		return nil, fmt.Errorf("ton: external message: %d bytes, the limit is %d", len(boc), MaxExternalSize)
	}
	// The cell and TL-B decoders are third-party code walking untrusted
	// bytes; a panic there must not take the node down.
	defer func() {
		if r := recover(); r != nil {
			ext, err = nil, fmt.Errorf("ton: external message: malformed (%v)", r)
		}
	}()
	root, err := cell.FromBOC(boc)
	if err != nil {
		return nil, fmt.Errorf("ton: external message: not a BOC: %w", err)
	}
	var msg tlb.Message
	if err := tlb.Parse(&msg, root); err != nil {
		return nil, fmt.Errorf("ton: external message: not a TON message: %w", err)
	}
	in, ok := msg.Msg.(*tlb.ExternalMessage)
	if !ok || msg.MsgType != tlb.MsgTypeExternalIn {
		return nil, fmt.Errorf("ton: external message: got a %s message, want external-in", msg.MsgType)
	}
	if in.DstAddr == nil || in.DstAddr.IsAddrNone() {
		return nil, fmt.Errorf("ton: external message: no destination address")
	}
	if in.DstAddr.Type() != address.StdAddress || in.DstAddr.BitsLen() != 256 {
		return nil, fmt.Errorf("ton: external message: destination %s is not a standard 256-bit address", in.DstAddr)
	}
	return &External{Cell: root, Msg: &msg, Hash: in.NormalizedHash()}, nil
}
