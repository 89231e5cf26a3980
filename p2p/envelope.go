package p2p

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// Gossip envelope wire format, version 1 (big-endian):
//
//	version    1 byte, = 1
//	sent       8 bytes, unix milliseconds (1..math.MaxInt64)
//	payload    uvarint length, bytes
//
// No trailing bytes; varints minimal. The origin's identity and signature are
// carried by GossipSub itself (StrictSign), not by the envelope.
const (
	envelopeVersion = 1
	// envelopeOverhead is the largest envelope header (version, time,
	// 10-byte varint).
	envelopeOverhead = 1 + 8 + binary.MaxVarintLen64
)

// envelope is a decoded gossip message body.
type envelope struct {
	Sent    time.Time
	Payload []byte
}

func encodeEnvelope(sent time.Time, payload []byte) []byte {
	out := make([]byte, 0, envelopeOverhead+len(payload))
	out = append(out, envelopeVersion)
	out = binary.BigEndian.AppendUint64(out, uint64(sent.UnixMilli()))
	return wire.AppendLenPrefixed(out, payload)
}

// decodeEnvelope strictly decodes b, refusing payloads over maxPayload before
// touching them. The payload aliases b.
func decodeEnvelope(b []byte, maxPayload int) (envelope, error) {
	if maxPayload < 0 {
		return envelope{}, errors.New("decode envelope: negative payload limit")
	}
	if len(b) > envelopeOverhead+maxPayload {
		return envelope{}, fmt.Errorf("decode envelope: %d bytes exceeds the topic limit", len(b))
	}
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != envelopeVersion {
		return envelope{}, fmt.Errorf("decode envelope: unsupported version %d (want %d)", v, envelopeVersion)
	}
	ms := rd.Uint64("sent")
	payload := rd.LenPrefixed("payload", maxPayload)
	if err := rd.Finish(); err != nil {
		return envelope{}, fmt.Errorf("decode envelope: %w", err)
	}
	if ms == 0 || ms > math.MaxInt64 {
		return envelope{}, fmt.Errorf("decode envelope: timestamp %d is out of range", ms)
	}
	return envelope{Sent: time.UnixMilli(int64(ms)), Payload: payload}, nil
}
