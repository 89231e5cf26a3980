package chat

import (
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// maxPeerIDLen bounds an encoded peer ID (an Ed25519 identity multihash is
// 38 bytes; a sha256 multihash 34).
const maxPeerIDLen = 64

// readPeerID reads a length-prefixed peer ID from rd and checks that it
// parses. The rest of chat's layouts are read with wire.Reader directly.
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
