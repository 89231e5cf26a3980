package chat

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// A sealed deposit carries no sender identity, so a holder cannot bound
// what it accepts per sender; it is paid instead with a hashcash stamp:
//
//	work = SHA-256(SHA-256(powDomain || holder peer ID || digest || at (8)) || nonce (8))
//
// with at least Holder.PowBits leading zero bits, where digest is
// SHA-256(powDigestDomain || the deposit's fields: mailbox key, expiry,
// delete hash, sealed item) and at the stamp's time (unix ms). The holder ID
// makes a stamp worthless at any other holder, the digest at any other
// item, at within maxClockSkew of the holder's clock bounds how long a
// holder must remember a used stamp (work) to refuse its replay. Hashing
// the fields first makes each try one SHA-256 block.
const (
	powDomain       = "tonmesh/chat/pow/v1"
	powDigestDomain = "tonmesh/chat/pow-digest/v1"
	// maxPowBits is the most work a sender does when a holder asks for
	// more than it offered (about 16 s at 2^24 hashes a second).
	maxPowBits = 28
	// stampWindow is how far a stamp's time may be from the holder's clock.
	stampWindow = maxClockSkew
)

// stamp is one proof of work.
type stamp struct {
	At    time.Time // millisecond precision
	Nonce uint64
}

// depositDigest binds a stamp to one deposit.
func depositDigest(mk []byte, expires time.Time, delHash, item []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(powDigestDomain))
	h.Write(mk)
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(expires.UnixMilli())))
	h.Write(delHash)
	h.Write(item)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// powPrefix is the hashed bytes before the nonce.
func powPrefix(holder peer.ID, digest [32]byte, at time.Time) []byte {
	b := append([]byte(powDomain), holder...)
	b = append(b, digest[:]...)
	h := sha256.Sum256(binary.BigEndian.AppendUint64(b, uint64(at.UnixMilli())))
	return h[:]
}

// work is the stamp's hash, whose leading zero bits are the work done.
func (st stamp) work(holder peer.ID, digest [32]byte) [32]byte {
	return sha256.Sum256(binary.BigEndian.AppendUint64(powPrefix(holder, digest, st.At), st.Nonce))
}

func leadingZeros(h [32]byte) int {
	n := 0
	for i := 0; i < len(h); i += 8 {
		w := binary.BigEndian.Uint64(h[i:])
		n += bits.LeadingZeros64(w)
		if w != 0 {
			break
		}
	}
	return n
}

// mintStamp searches a nonce whose work has at least want leading zero
// bits, checking ctx now and then. It takes 2^want hashes on average.
func mintStamp(ctx context.Context, holder peer.ID, digest [32]byte, want int, now time.Time) (stamp, error) {
	st := stamp{At: time.UnixMilli(now.UnixMilli())}
	buf := binary.BigEndian.AppendUint64(powPrefix(holder, digest, st.At), 0)
	tail := buf[len(buf)-8:]
	for n := uint64(0); ; n++ {
		if n&0xffff == 0xffff && ctx.Err() != nil {
			return stamp{}, fmt.Errorf("chat: proof of work for %s: %w", holder, ctx.Err())
		}
		binary.BigEndian.PutUint64(tail, n)
		if leadingZeros(sha256.Sum256(buf)) >= want {
			st.Nonce = n
			return st, nil
		}
	}
}

// MintStamps mints n stamps of bits of work (0: the default
// Holder.PowBits) for made-up deposits and returns how long each took:
// the proof of work a sealed deposit costs its sender per holder. For
// bench-chat and for choosing Holder.PowBits.
func MintStamps(ctx context.Context, bits, n int) ([]time.Duration, error) {
	if bits == 0 {
		bits = DefaultPowBits()
	}
	out := make([]time.Duration, 0, n)
	for i := range n {
		digest := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(powDigestDomain), uint64(i)))
		t0 := time.Now()
		if _, err := mintStamp(ctx, peer.ID("bench holder"), digest, bits, t0); err != nil {
			return out, err
		}
		out = append(out, time.Since(t0))
	}
	return out, nil
}

// DefaultPowBits is the proof of work holders want unless configured.
func DefaultPowBits() int {
	var c Config
	c.setDefaults()
	return c.Holder.PowBits
}
