package chat

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/tonmesh/tonmesh/internal/edverify"
)

// Sender keys. Each member, in each epoch of a group, has its own chain: a
// random 32-byte chain key and an Ed25519 signing key. Message i is sealed
// with the key HMAC(ck_i, "message") and the chain moves on to
// ck_{i+1} = HMAC(ck_i, "next"), so a chain key reveals no earlier message
// key. The sender hands the chain's start (ck_0) and the public signing key
// to every other member of the epoch over their pairwise ratchet sessions;
// a member who was not in the epoch never gets it. A new epoch (every
// membership change) means a new chain for every sender.
const (
	labelGroupMessage = "tonmesh/chat/group/v1/chain/message"
	labelGroupNext    = "tonmesh/chat/group/v1/chain/next"
	infoGroupKeys     = "tonmesh/chat/group/v1/message-keys"
	// maxGroupSkip bounds how far ahead of the next expected index a
	// message may be (keys kept for the skipped ones), and how many skipped
	// keys one chain keeps.
	maxGroupSkip = 2000
)

// errGroupDuplicate is a message index whose key was already used.
var errGroupDuplicate = errors.New("group message index already used")

// senderKey is the stored state of one sender's chain in one epoch. Own
// chains keep the signing key and whom the chain's start was handed to.
type senderKey struct {
	Start   []byte            `json:"start,omitempty"` // own: ck_0, to distribute
	Chain   []byte            `json:"chain"`           // ck_Index
	Index   uint32            `json:"index"`           // next index Chain yields
	Pub     []byte            `json:"pub"`
	Priv    []byte            `json:"priv,omitempty"`    // own: Ed25519 seed
	Skipped map[uint32][]byte `json:"skipped,omitempty"` // receiver: keys of skipped indices
	Sent    []string          `json:"sent,omitempty"`    // own: members that got the start
}

func newOwnSenderKey() (*senderKey, error) {
	ck := make([]byte, 32)
	if _, err := rand.Read(ck); err != nil {
		return nil, fmt.Errorf("chat: draw a sender key: %w", err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("chat: draw a sender signing key: %w", err)
	}
	return &senderKey{Start: ck, Chain: ck, Pub: pub, Priv: priv.Seed()}, nil
}

func groupChainStep(ck []byte) (next, mk []byte) {
	m := hmac.New(sha256.New, ck)
	m.Write([]byte(labelGroupMessage))
	mk = m.Sum(nil)
	m = hmac.New(sha256.New, ck)
	m.Write([]byte(labelGroupNext))
	return m.Sum(nil), mk
}

// nextKey returns the message key of the next index (sending) and advances.
func (k *senderKey) nextKey() (uint32, []byte) {
	i := k.Index
	next, mk := groupChainStep(k.Chain)
	k.Chain, k.Index = next, i+1
	return i, mk
}

// keyFor returns the message key of index i (receiving) and advances the
// chain past it, keeping the keys of skipped indices. The state is changed
// only on success: the caller stores it with the message it opened.
func (k *senderKey) keyFor(i uint32) ([]byte, error) {
	if i < k.Index {
		mk, ok := k.Skipped[i]
		if !ok {
			return nil, errGroupDuplicate
		}
		delete(k.Skipped, i)
		return mk, nil
	}
	if i-k.Index > maxGroupSkip || len(k.Skipped)+int(i-k.Index) > maxGroupSkip {
		return nil, fmt.Errorf("group message index %d is too far ahead of %d", i, k.Index)
	}
	for k.Index < i {
		next, mk := groupChainStep(k.Chain)
		if k.Skipped == nil {
			k.Skipped = make(map[uint32][]byte)
		}
		k.Skipped[k.Index] = mk
		k.Chain, k.Index = next, k.Index+1
	}
	_, mk := k.nextKey()
	return mk, nil
}

func groupAEAD(mk []byte) (aead interface {
	Seal(dst, nonce, plaintext, ad []byte) []byte
	Open(dst, nonce, ciphertext, ad []byte) ([]byte, error)
}, nonce []byte) {
	out, err := hkdf.Expand(sha256.New, mk, infoGroupKeys, chacha20poly1305.KeySize+chacha20poly1305.NonceSize)
	if err != nil {
		panic("chat: HKDF of a fixed small length failed: " + err.Error())
	}
	a, err := chacha20poly1305.New(out[:chacha20poly1305.KeySize])
	if err != nil {
		panic("chat: chacha20poly1305 rejected a 32-byte key: " + err.Error())
	}
	return a, out[chacha20poly1305.KeySize:]
}

// sealGroup encrypts padded content as the next message of the own chain k
// and signs the body. env carries sender, ID, time and timer.
func sealGroup(k *senderKey, env *envelope, g GroupID, epoch uint32, plain []byte) *groupBody {
	i, mk := k.nextKey()
	b := &groupBody{Group: g, Epoch: epoch, Index: i}
	aead, nonce := groupAEAD(mk)
	b.Sealed = aead.Seal(nil, nonce, plain, b.bound(groupADDomain, env.Sender, env.ID, env.Sent, env.TTL))
	b.Sig = ed25519.Sign(ed25519.NewKeyFromSeed(k.Priv), b.bound(groupMsgDomain, env.Sender, env.ID, env.Sent, env.TTL))
	return b
}

// openGroup checks the body's signature against the sender's chain k and
// decrypts it, advancing k (on success only).
func openGroup(k *senderKey, env *envelope, b *groupBody) ([]byte, error) {
	if len(k.Pub) != ed25519.PublicKeySize || !edverify.Verify(k.Pub, b.bound(groupMsgDomain, env.Sender, env.ID, env.Sent, env.TTL), b.Sig) {
		return nil, fmt.Errorf("group message from %s: %w", env.Sender, errBadSignature)
	}
	trial := k.clone()
	mk, err := trial.keyFor(b.Index)
	if err != nil {
		return nil, err
	}
	aead, nonce := groupAEAD(mk)
	pt, err := aead.Open(nil, nonce, b.Sealed, b.bound(groupADDomain, env.Sender, env.ID, env.Sent, env.TTL))
	if err != nil {
		return nil, fmt.Errorf("group message from %s: decryption failed", env.Sender)
	}
	*k = *trial
	return pt, nil
}

func (k *senderKey) clone() *senderKey {
	c := *k
	if k.Skipped != nil {
		c.Skipped = make(map[uint32][]byte, len(k.Skipped))
		for i, v := range k.Skipped {
			c.Skipped[i] = v
		}
	}
	return &c
}
