package ratchet

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"math"
	"slices"
	"sync"
)

const (
	// MaxSkip is the most message keys one message may make a chain skip.
	MaxSkip = 1000
	// MaxSkippedTotal is the most skipped message keys a session keeps; the
	// oldest are evicted first.
	MaxSkippedTotal = 2000
	// maxClosedChains is how many finished receiving chains a session
	// remembers (public key and length only) to tell replays from forgeries.
	maxClosedChains = 32
	// sendReserve is how many sending numbers past the next one a state
	// reserves (see EncryptAhead); it is renewed when half is used.
	sendReserve = 32
)

// Session is one end of a Double Ratchet conversation. It is safe for
// concurrent use; every method either succeeds or leaves it unchanged.
type Session struct {
	mu sync.Mutex

	initiator bool
	sendInit  bool // initiator only: no reply decrypted yet, so keep sending init headers
	ourIK     key
	theirIK   key
	init      initHeader // the session's X3DH parameters (sent by, or received from, the initiator)

	c      chains
	closed []closedChain // oldest first
	// known is the reservation a durable state is known to hold (Durable);
	// it is not stored.
	known   Reservation
	skipped map[skipID]key
	order   []skipID // skipped keys, oldest first
}

// chains is the part of the state one message may change; it is a plain
// value (the ratchet private key is immutable), so Decrypt works on a copy.
type chains struct {
	dhs    *ecdh.PrivateKey
	dhsPub key
	dhr    key
	hasDHr bool
	rk     key
	cks    key
	hasCKs bool
	ckr    key
	hasCKr bool
	ns     uint32
	nr     uint32
	pn     uint32
	floor  uint32 // sending numbers below it may have been used (ns <= floor)
}

// Reservation is the sending numbers a session state reserves: those of
// the sending chain with ratchet key dh below floor.
type Reservation struct {
	dh    key
	floor uint32
}

// closedChain is a receiving chain the peer has moved on from: its ratchet
// public key and the number of messages it held.
type closedChain struct {
	dh  key
	end uint32
}

type skipID struct {
	dh key
	n  uint32
}

type skippedKey struct {
	id skipID
	mk key
}

// PeerIdentity returns the peer's X25519 identity key.
func (s *Session) PeerIdentity() []byte {
	return bytes.Clone(s.theirIK[:])
}

// InitKey returns the initiator's ephemeral X3DH public key, which names the
// session: the chat service can refuse to Respond twice to the same one.
func (s *Session) InitKey() []byte {
	return bytes.Clone(s.init.ephemeral[:])
}

// Initiator reports whether this end started the session.
func (s *Session) Initiator() bool { return s.initiator }

func (s *Session) identities() (initiatorIK, responderIK key) {
	if s.initiator {
		return s.ourIK, s.theirIK
	}
	return s.theirIK, s.ourIK
}

// Encrypt seals plaintext (at most MaxPlaintext bytes) bound to ad. Until the
// session has decrypted a reply, every message carries the X3DH init header.
func (s *Session) Encrypt(plaintext, ad []byte) ([]byte, error) {
	msg, _, _, err := s.EncryptAhead(plaintext, ad)
	return msg, err
}

// EncryptAhead is Encrypt that also says whether the message may leave
// before the state it leaves the session in is durable. Every state
// reserves the sending numbers below its floor, a few past the next one;
// a state read back after a restart is Resumed (it skips its sending chain
// to its floor) before it encrypts again: a crash that loses
// the states after the last durable one never makes the session use a
// number (a message key) twice. ahead is true when
// a state reported durable (Durable) reserved this message's number. res is
// the reservation of the state this call leaves: report it with Durable once
// a state written after this call is durable.
func (s *Session) EncryptAhead(plaintext, ad []byte) (msg []byte, ahead bool, res Reservation, err error) {
	if len(plaintext) > MaxPlaintext {
		return nil, false, res, fmt.Errorf("ratchet: encrypt: plaintext of %d bytes exceeds the maximum %d; split it", len(plaintext), MaxPlaintext)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.c.hasCKs {
		return nil, false, res, fmt.Errorf("%w: decrypt the peer's first message before replying", ErrCannotSend)
	}
	c := s.c
	if c.ns >= math.MaxUint32-1 {
		return nil, false, res, fmt.Errorf("%w: the sending chain is exhausted; wait for a reply", ErrCannotSend)
	}
	h := header{hasInit: s.sendInit, init: s.init, dh: c.dhsPub, pn: c.pn, n: c.ns}
	next, mk := kdfChain(c.cks)
	out := make([]byte, 0, h.size()+len(plaintext)+tagSize)
	out = h.appendTo(out)
	iIK, rIK := s.identities()
	out = seal(out, mk, plaintext, associatedData(iIK, rIK, ad, out))
	c.cks = next
	c.ns++
	if uint64(c.floor) < uint64(c.ns)+sendReserve/2 {
		c.floor = uint32(min(uint64(c.ns)+sendReserve, math.MaxUint32-1))
	}
	ahead = s.known.dh == c.dhsPub && h.n < s.known.floor
	s.c = c
	return out, ahead, Reservation{dh: c.dhsPub, floor: c.floor}, nil
}

// Resume skips the sending numbers a decoded state reserved, at once: call
// it on a state read back after a restart, which may be older than the
// last message its session sent (the states written after it may be lost),
// and store the result before anything reads that state again. The peer
// then holds the numbers never sent as skipped keys (at most 32).
func (s *Session) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.c.hasCKs {
		return // nothing was ever sent
	}
	for s.c.ns < s.c.floor {
		s.c.cks, _ = kdfChain(s.c.cks)
		s.c.ns++
	}
}

// Durable records that a state holding reservation r (or a later one of
// the same chain) is durable, so that EncryptAhead may let the numbers it
// reserves leave ahead of their own states.
func (s *Session) Durable(r Reservation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.dh == s.c.dhsPub && (s.known.dh != r.dh || r.floor > s.known.floor) {
		s.known = r
	}
}

// Decrypt opens a message bound to ad. Out-of-order messages are opened with
// skipped keys; a message already decrypted gives ErrDuplicate, a forged or
// corrupted one ErrAuth, an init header of another session
// ErrSessionMismatch. On any error the session is unchanged.
func (s *Session) Decrypt(msg, ad []byte) ([]byte, error) {
	h, hdr, sealed, err := parseMessage(msg)
	if err != nil {
		return nil, fmt.Errorf("ratchet: decrypt: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.hasInit && (s.initiator || h.init != s.init) {
		return nil, fmt.Errorf("%w: its init header names ephemeral key %x", ErrSessionMismatch, h.init.ephemeral[:8])
	}
	iIK, rIK := s.identities()
	fullAD := associatedData(iIK, rIK, ad, hdr)

	id := skipID{dh: h.dh, n: h.n}
	if mk, ok := s.skipped[id]; ok {
		pt, err := open(mk, sealed, fullAD)
		if err != nil {
			return nil, fmt.Errorf("ratchet: decrypt skipped message %d: %w", h.n, err)
		}
		s.removeSkipped(id)
		s.sendInit = false
		return pt, nil
	}

	c := s.c
	var pending []skippedKey
	var closed *closedChain
	switch {
	case c.hasCKr && h.dh == c.dhr:
		if h.n < c.nr {
			return nil, fmt.Errorf("%w: message %d of the current chain", ErrDuplicate, h.n)
		}
	default:
		if e, ok := s.findClosed(h.dh); ok {
			if h.n < e.end {
				return nil, fmt.Errorf("%w: message %d of a finished chain", ErrDuplicate, h.n)
			}
			return nil, fmt.Errorf("%w: message %d is past the end (%d) of a finished chain", ErrAuth, h.n, e.end)
		}
		if c.hasCKr {
			if pending, err = skip(&c, h.pn, pending); err != nil {
				return nil, err
			}
			closed = &closedChain{dh: c.dhr, end: max(c.nr, h.pn)}
		}
		if err := ratchetStep(&c, h.dh); err != nil {
			return nil, fmt.Errorf("ratchet: decrypt: %w", err)
		}
	}
	if pending, err = skip(&c, h.n, pending); err != nil {
		return nil, err
	}
	next, mk := kdfChain(c.ckr)
	pt, err := open(mk, sealed, fullAD)
	if err != nil {
		return nil, fmt.Errorf("ratchet: decrypt message %d: %w", h.n, err)
	}
	c.ckr = next
	c.nr = h.n + 1

	s.c = c
	s.sendInit = false
	if closed != nil {
		s.closed = append(s.closed, *closed)
		if len(s.closed) > maxClosedChains {
			s.closed = slices.Delete(s.closed, 0, len(s.closed)-maxClosedChains)
		}
	}
	for _, p := range pending {
		s.addSkipped(p)
	}
	return pt, nil
}

// skip advances c's receiving chain to index until, collecting the skipped
// message keys.
func skip(c *chains, until uint32, pending []skippedKey) ([]skippedKey, error) {
	if until <= c.nr {
		return pending, nil
	}
	if until-c.nr > MaxSkip {
		return nil, fmt.Errorf("%w: reaching message %d would skip %d keys of one chain, more than %d", ErrTooManySkipped, until, until-c.nr, MaxSkip)
	}
	for c.nr < until {
		next, mk := kdfChain(c.ckr)
		pending = append(pending, skippedKey{id: skipID{dh: c.dhr, n: c.nr}, mk: mk})
		c.ckr = next
		c.nr++
	}
	return pending, nil
}

// ratchetStep is the DH ratchet step on receiving a new ratchet public key.
func ratchetStep(c *chains, theirDH key) error {
	c.pn = c.ns
	c.ns, c.nr = 0, 0
	c.dhr, c.hasDHr = theirDH, true
	out, err := dh(c.dhs, theirDH)
	if err != nil {
		return err
	}
	if c.rk, c.ckr, err = kdfRoot(c.rk, out); err != nil {
		return err
	}
	c.hasCKr = true
	dhs, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate ratchet key: %w", err)
	}
	c.dhs, c.dhsPub = dhs, pubKey(dhs)
	if out, err = dh(c.dhs, theirDH); err != nil {
		return err
	}
	if c.rk, c.cks, err = kdfRoot(c.rk, out); err != nil {
		return err
	}
	c.hasCKs = true
	c.floor = sendReserve
	return nil
}

func (s *Session) findClosed(dh key) (closedChain, bool) {
	for _, e := range s.closed {
		if e.dh == dh {
			return e, true
		}
	}
	return closedChain{}, false
}

func (s *Session) addSkipped(p skippedKey) {
	if _, dup := s.skipped[p.id]; dup {
		return // cannot happen: chain indexes only move forward
	}
	s.skipped[p.id] = p.mk
	s.order = append(s.order, p.id)
	if over := len(s.order) - MaxSkippedTotal; over > 0 {
		for _, old := range s.order[:over] {
			delete(s.skipped, old)
		}
		s.order = slices.Delete(s.order, 0, over)
	}
}

func (s *Session) removeSkipped(id skipID) {
	delete(s.skipped, id)
	if i := slices.Index(s.order, id); i >= 0 {
		s.order = slices.Delete(s.order, i, i+1)
	}
}
