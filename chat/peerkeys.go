package chat

import (
	"crypto/ed25519"
	"sync"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/tonmesh/tonmesh/internal/edverify"
)

// maxPeerKeys bounds the senders whose expanded keys are kept.
const maxPeerKeys = 1024

// stdlibVerify is curve25519-voi's preset that accepts exactly what
// crypto/ed25519 accepts (as internal/edverify uses it).
var stdlibVerify = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// peerKeyCache keeps the Ed25519 keys of recent envelope senders expanded
// (decompressed, with their multiples precomputed: about 1.5 KiB each), so
// that checking another envelope from the same sender does not redo that,
// about a fifth of a verification. A key is a function of the peer ID, so
// an entry never goes stale; when full an arbitrary one is dropped. The
// acceptance is crypto/ed25519's, as internal/edverify's (TestPeerKeys*,
// FuzzPeerKeyVerify). The zero value is ready to use.
type peerKeyCache struct {
	mu sync.Mutex
	m  map[peer.ID]*peerKey
}

// peerKey is one sender's public key, ready to verify with: expanded
// for an Ed25519 key (nil if it is no point on the curve, which no
// signature verifies under), else the libp2p key.
type peerKey struct {
	expanded *voi.ExpandedPublicKey
	other    crypto.PubKey
}

// key returns p's key, extracted from the ID and expanded once.
func (c *peerKeyCache) key(p peer.ID) (*peerKey, error) {
	c.mu.Lock()
	k, ok := c.m[p]
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	pub, err := p.ExtractPublicKey()
	if err != nil {
		return nil, err
	}
	k = &peerKey{other: pub}
	if pub.Type() == crypto.Ed25519 {
		raw, err := pub.Raw()
		if err != nil {
			return nil, err
		}
		k = &peerKey{}
		if len(raw) == ed25519.PublicKeySize {
			k.expanded, _ = voi.NewExpandedPublicKey(voi.PublicKey(raw))
		}
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[peer.ID]*peerKey)
	}
	if len(c.m) >= maxPeerKeys {
		for q := range c.m {
			delete(c.m, q)
			break
		}
	}
	c.m[p] = k
	c.mu.Unlock()
	return k, nil
}

// verify reports whether sig is the key's valid signature of msg, by the
// rules of crypto/ed25519.Verify for an Ed25519 key.
func (k *peerKey) verify(msg, sig []byte) (bool, error) {
	if k.other != nil {
		return edverify.PeerKey(k.other, msg, sig)
	}
	if k.expanded == nil || len(sig) != ed25519.SignatureSize {
		return false, nil
	}
	return voi.VerifyExpandedWithOptions(k.expanded, msg, sig, stdlibVerify), nil
}
