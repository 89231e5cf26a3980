package ratchet

import (
	"crypto/ecdh"
	"encoding/binary"
	"fmt"
	"math"
)

// Session state encoding, version 2 (integers big-endian):
//
//	version 1 | flags 1 | our IK 32 | their IK 32 | init IK 32 | init EK 32 | prekey id 4
//	| DHs private 32 | DHr 32 | RK 32 | CKs 32 | CKr 32 | Ns 4 | Nr 4 | PN 4 | floor 4
//	| closed chains count 2 | (DH 32 | end 4)* | skipped count 2 | (DH 32 | n 4 | MK 32)*
//
// Absent keys (flag clear) are encoded as zeros; skipped keys are in eviction
// order, oldest first. floor (Ns <= floor <= Ns+MaxSkip) is the sending
// chain's reservation: numbers below it may have been used (see
// EncryptAhead). Version 1 is version 2 without floor (floor = Ns); it is
// decoded, and encoded as version 2.
const (
	stateVersion   = 2
	stateVersionV1 = 1

	stInitiator = 1 << 0
	stSendInit  = 1 << 1
	stHasDHr    = 1 << 2
	stHasCKs    = 1 << 3
	stHasCKr    = 1 << 4
	stKnown     = stInitiator | stSendInit | stHasDHr | stHasCKs | stHasCKr

	stateFixedSize  = 2 + 2*keySize + initHeaderSize + 5*keySize + 4*4
	closedEntrySize = keySize + 4
	skippedSize     = keySize + 4 + keySize
)

// MarshalBinary encodes the full session state, skipped message keys
// included, for the chat service's store. The bytes are secret.
func (s *Session) MarshalBinary() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var flags byte
	set := func(cond bool, bit byte) {
		if cond {
			flags |= bit
		}
	}
	set(s.initiator, stInitiator)
	set(s.sendInit, stSendInit)
	set(s.c.hasDHr, stHasDHr)
	set(s.c.hasCKs, stHasCKs)
	set(s.c.hasCKr, stHasCKr)

	out := make([]byte, 0, stateFixedSize+2+len(s.closed)*closedEntrySize+2+len(s.order)*skippedSize)
	out = append(out, stateVersion, flags)
	out = append(out, s.ourIK[:]...)
	out = append(out, s.theirIK[:]...)
	out = append(out, s.init.identity[:]...)
	out = append(out, s.init.ephemeral[:]...)
	out = binary.BigEndian.AppendUint32(out, s.init.prekeyID)
	out = append(out, s.c.dhs.Bytes()...)
	out = appendOptional(out, s.c.dhr, s.c.hasDHr)
	out = append(out, s.c.rk[:]...)
	out = appendOptional(out, s.c.cks, s.c.hasCKs)
	out = appendOptional(out, s.c.ckr, s.c.hasCKr)
	out = binary.BigEndian.AppendUint32(out, s.c.ns)
	out = binary.BigEndian.AppendUint32(out, s.c.nr)
	out = binary.BigEndian.AppendUint32(out, s.c.pn)
	out = binary.BigEndian.AppendUint32(out, s.c.floor)
	out = binary.BigEndian.AppendUint16(out, uint16(len(s.closed)))
	for _, e := range s.closed {
		out = append(out, e.dh[:]...)
		out = binary.BigEndian.AppendUint32(out, e.end)
	}
	out = binary.BigEndian.AppendUint16(out, uint16(len(s.order)))
	for _, id := range s.order {
		mk := s.skipped[id]
		out = append(out, id.dh[:]...)
		out = binary.BigEndian.AppendUint32(out, id.n)
		out = append(out, mk[:]...)
	}
	return out, nil
}

func appendOptional(out []byte, k key, present bool) []byte {
	if !present {
		k = key{}
	}
	return append(out, k[:]...)
}

// UnmarshalSession decodes a state written by MarshalBinary, strictly: exact
// size, known version and flags, consistent fields, no duplicates.
func UnmarshalSession(data []byte) (*Session, error) {
	fixed := stateFixedSize
	if len(data) > 0 && data[0] == stateVersionV1 {
		fixed -= 4
	}
	if len(data) < fixed+4 {
		return nil, fmt.Errorf("%w: session state of %d bytes is shorter than the minimum %d", ErrMalformed, len(data), fixed+4)
	}
	if data[0] != stateVersion && data[0] != stateVersionV1 {
		return nil, fmt.Errorf("%w: session state version %d, this node knows %d and %d", ErrMalformed, data[0], stateVersionV1, stateVersion)
	}
	flags := data[1]
	if flags&^stKnown != 0 {
		return nil, fmt.Errorf("%w: session state has unknown flags %#x", ErrMalformed, flags)
	}
	r := reader{buf: data[2:]}
	s := &Session{
		initiator: flags&stInitiator != 0,
		sendInit:  flags&stSendInit != 0,
		ourIK:     r.key(),
		theirIK:   r.key(),
		skipped:   make(map[skipID]key),
	}
	s.init.identity = r.key()
	s.init.ephemeral = r.key()
	s.init.prekeyID = r.u32()
	dhs, err := ecdh.X25519().NewPrivateKey(r.next(keySize))
	if err != nil {
		return nil, fmt.Errorf("%w: session ratchet key: %v", ErrMalformed, err)
	}
	s.c.dhs, s.c.dhsPub = dhs, pubKey(dhs)
	s.c.hasDHr = flags&stHasDHr != 0
	s.c.hasCKs = flags&stHasCKs != 0
	s.c.hasCKr = flags&stHasCKr != 0
	var ok [3]bool
	s.c.dhr, ok[0] = readOptional(&r, s.c.hasDHr)
	s.c.rk = r.key()
	s.c.cks, ok[1] = readOptional(&r, s.c.hasCKs)
	s.c.ckr, ok[2] = readOptional(&r, s.c.hasCKr)
	s.c.ns, s.c.nr, s.c.pn = r.u32(), r.u32(), r.u32()
	s.c.floor = s.c.ns
	if data[0] == stateVersion {
		s.c.floor = r.u32()
	}
	if err := s.checkFixed(ok); err != nil {
		return nil, err
	}

	nClosed := int(r.u16())
	if nClosed > maxClosedChains {
		return nil, fmt.Errorf("%w: session state lists %d finished chains, more than %d", ErrMalformed, nClosed, maxClosedChains)
	}
	for range nClosed {
		e := closedChain{dh: r.key(), end: r.u32()}
		if _, dup := s.findClosed(e.dh); dup || r.failed {
			return nil, fmt.Errorf("%w: session state has a truncated or repeated finished chain", ErrMalformed)
		}
		s.closed = append(s.closed, e)
	}
	nSkipped := int(r.u16())
	if nSkipped > MaxSkippedTotal {
		return nil, fmt.Errorf("%w: session state holds %d skipped keys, more than %d", ErrMalformed, nSkipped, MaxSkippedTotal)
	}
	if len(r.buf) != nSkipped*skippedSize {
		return nil, fmt.Errorf("%w: session state has %d bytes for %d skipped keys, want %d", ErrMalformed, len(r.buf), nSkipped, nSkipped*skippedSize)
	}
	for range nSkipped {
		id := skipID{dh: r.key(), n: r.u32()}
		if _, dup := s.skipped[id]; dup {
			return nil, fmt.Errorf("%w: session state repeats skipped key %d", ErrMalformed, id.n)
		}
		s.skipped[id] = r.key()
		s.order = append(s.order, id)
	}
	if r.failed || len(r.buf) != 0 {
		return nil, fmt.Errorf("%w: session state size is inconsistent", ErrMalformed)
	}
	return s, nil
}

// readOptional reads a key; ok is false when an absent key is not all zeros.
func readOptional(r *reader, present bool) (k key, ok bool) {
	k = r.key()
	return k, present || k == key{}
}

func (s *Session) checkFixed(zeroWhenAbsent [3]bool) error {
	switch {
	case zeroWhenAbsent != [3]bool{true, true, true}:
		return fmt.Errorf("%w: session state has a key its flags say is absent", ErrMalformed)
	case s.sendInit && !s.initiator:
		return fmt.Errorf("%w: session state of a responder sends init headers", ErrMalformed)
	case s.initiator && s.init.identity != s.ourIK, !s.initiator && s.init.identity != s.theirIK:
		return fmt.Errorf("%w: session state's init header names another initiator", ErrMalformed)
	case s.c.hasCKr && (!s.c.hasDHr || !s.c.hasCKs):
		return fmt.Errorf("%w: session state has a receiving chain without its ratchet keys", ErrMalformed)
	case s.c.ns == math.MaxUint32 || s.c.nr == math.MaxUint32 || s.c.floor == math.MaxUint32:
		return fmt.Errorf("%w: session state counters are out of range", ErrMalformed)
	case s.c.floor < s.c.ns || s.c.floor-s.c.ns > MaxSkip:
		return fmt.Errorf("%w: session state reserves sending numbers %d..%d", ErrMalformed, s.c.ns, s.c.floor)
	}
	return nil
}
