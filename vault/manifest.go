package vault

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"

	"github.com/tonmesh/tonmesh/internal/wire"
	"github.com/tonmesh/tonmesh/vault/passport"
	"github.com/tonmesh/tonmesh/vault/shard"
)

// Manifest wire format, version 3 (the plaintext that keys.seal encrypts;
// integers are minimal uvarints unless a width is given):
//
//	version   1 byte, = 3 (2 when no element is striped)
//	seq       uvarint, bumped by every change
//	count     uvarint, elements (at most maxElements), sorted by type, unique
//	element:
//	  type      length-prefixed string (a passport element type)
//	  added     uvarint, unix milliseconds
//	  size      uvarint, plaintext bytes
//	  encsize   uvarint, ciphertext bytes (shard.Encoded.Size; for a striped
//	            element the layout's EncSize)
//	  k, n      uvarint each, 1 <= k <= n <= maxShards
//	  segment   uvarint, version 3 only: 0 for an element sealed in one
//	            piece, else the plaintext bytes per stripe of a striped one
//	            (1..shard.MaxSegment; encsize must be its layout's)
//	  key       32 bytes, the element's AES-256-GCM key
//	  seed      32 bytes, the element's challenge seed
//	  audited   uvarint, unix milliseconds of the last check (0: never)
//	  n shards:
//	    cid       length-prefixed CID bytes (CIDv1 raw, BLAKE3 or sha2-256)
//	    holder    length-prefixed peer ID bytes
//	    status    1 byte, a shardStatus
//	    next      uvarint, index of the first unused challenge nonce
//	    answers   1 byte count (at most answersPerShard), then 16 bytes each:
//	              the expected answers to nonces next, next+1, ...
//	    away      uvarint, unix milliseconds of the first of the checks in a
//	              row the holder did not answer (0: it answered the last one)
//
// A manifest with no striped element is written as version 2 (version 3
// without segment), so that a tonmesh that predates striping still reads
// it; a version-3 manifest has at least one striped element. Version 1 is
// version 2 without away; it is still read (as never away). Versions 1 and
// 2 read as segment 0. No trailing bytes are allowed, so
// decode(encode(m)) == m.
const (
	manifestVersion = 3
	maxElements     = 64
	maxShards       = 64
	maxTypeLen      = 32
	maxCIDLen       = 64
	maxPeerIDLen    = 128
	answerLen       = 16
	answersPerShard = 12
	// maxManifest bounds the plaintext so that the sealed manifest fits a
	// DHT record (p2p.MaxRecordSize) with its envelope.
	maxManifest = 64<<10 - 1024
)

// shardStatus is what the last check of a shard found.
type shardStatus byte

const (
	statusUnknown     shardStatus = iota // never checked
	statusOK                             // answered the challenge or served the shard intact
	statusUnreachable                    // the holder did not answer
	statusLost                           // the holder answered without the shard, or with a wrong answer or corrupt data
	statusMax
)

func (s shardStatus) String() string {
	switch s {
	case statusOK:
		return "ok"
	case statusUnreachable:
		return "unreachable"
	case statusLost:
		return "lost"
	}
	return "unknown"
}

// manifest is the owner's index of the vault. The local copy is
// authoritative; a sealed copy is published to the DHT for restore.
type manifest struct {
	Seq      uint64
	Elements []*elementEntry // sorted by Type
}

// elementEntry is one stored element: what decrypts it and where its shards
// are.
type elementEntry struct {
	Type    passport.ElementType
	Added   time.Time // millisecond precision
	Size    int       // plaintext bytes
	EncSize int       // ciphertext bytes
	K, N    int
	Segment int // plaintext bytes per stripe; 0: sealed in one piece
	Key     [32]byte
	Seed    [32]byte
	Audited time.Time // zero: never
	Shards  []*shardEntry
}

// shardEntry is one shard of an element and its holder.
type shardEntry struct {
	CID     cid.Cid
	Holder  peer.ID
	Status  shardStatus
	Next    uint64            // index of the first unused challenge nonce
	Answers [][answerLen]byte // expected answers to nonces Next, Next+1, ...
	Away    time.Time         // since when the holder has not answered; zero: it answered the last check
}

// element returns the entry of type t, or nil.
func (m *manifest) element(t passport.ElementType) *elementEntry {
	for _, e := range m.Elements {
		if e.Type == t {
			return e
		}
	}
	return nil
}

// clone deep-copies m, so a snapshot can be used without the lock.
func (m *manifest) clone() *manifest {
	out := &manifest{Seq: m.Seq, Elements: make([]*elementEntry, len(m.Elements))}
	for i, e := range m.Elements {
		out.Elements[i] = e.clone()
	}
	return out
}

func (e *elementEntry) clone() *elementEntry {
	c := *e
	c.Shards = make([]*shardEntry, len(e.Shards))
	for i, s := range e.Shards {
		sc := *s
		sc.Answers = slices.Clone(s.Answers)
		c.Shards[i] = &sc
	}
	return &c
}

// put replaces or inserts e, keeping the order, and returns the entry it
// replaced (nil if none).
func (m *manifest) put(e *elementEntry) *elementEntry {
	for i, old := range m.Elements {
		if old.Type == e.Type {
			m.Elements[i] = e
			return old
		}
	}
	m.Elements = append(m.Elements, e)
	slices.SortFunc(m.Elements, func(a, b *elementEntry) int { return cmpString(string(a.Type), string(b.Type)) })
	return nil
}

// remove deletes the entry of type t if its key is key; it reports whether
// it did.
func (m *manifest) remove(t passport.ElementType, key [32]byte) bool {
	for i, e := range m.Elements {
		if e.Type == t && e.Key == key {
			m.Elements = slices.Delete(m.Elements, i, i+1)
			return true
		}
	}
	return false
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// encode writes the manifest in the version-3 format, or in version 2
// when no element is striped.
func (m *manifest) encode() []byte {
	if slices.ContainsFunc(m.Elements, func(e *elementEntry) bool { return e.Segment != 0 }) {
		return m.encodeVersion(3)
	}
	return m.encodeVersion(2)
}

// encodeVersion writes version 3, 2 (which has no segments) or 1 (which
// has no away times either); encode picks 3 or 2, the tests of reading old
// manifests the others.
func (m *manifest) encodeVersion(version byte) []byte {
	out := []byte{version}
	out = binary.AppendUvarint(out, m.Seq)
	out = binary.AppendUvarint(out, uint64(len(m.Elements)))
	for _, e := range m.Elements {
		out = wire.AppendLenPrefixed(out, []byte(e.Type))
		out = binary.AppendUvarint(out, uint64(e.Added.UnixMilli()))
		out = binary.AppendUvarint(out, uint64(e.Size))
		out = binary.AppendUvarint(out, uint64(e.EncSize))
		out = binary.AppendUvarint(out, uint64(e.K))
		out = binary.AppendUvarint(out, uint64(e.N))
		if version >= 3 {
			out = binary.AppendUvarint(out, uint64(e.Segment))
		}
		out = append(out, e.Key[:]...)
		out = append(out, e.Seed[:]...)
		var audited uint64
		if !e.Audited.IsZero() {
			audited = uint64(e.Audited.UnixMilli())
		}
		out = binary.AppendUvarint(out, audited)
		for _, s := range e.Shards {
			out = wire.AppendLenPrefixed(out, s.CID.Bytes())
			out = wire.AppendLenPrefixed(out, []byte(s.Holder))
			out = append(out, byte(s.Status))
			out = binary.AppendUvarint(out, s.Next)
			out = append(out, byte(len(s.Answers)))
			for _, a := range s.Answers {
				out = append(out, a[:]...)
			}
			if version >= 2 {
				var away uint64
				if !s.Away.IsZero() {
					away = uint64(s.Away.UnixMilli())
				}
				out = binary.AppendUvarint(out, away)
			}
		}
	}
	return out
}

// decodeManifest strictly decodes a version-3, 2 or 1 manifest. It
// accepts only what encode can produce from a valid manifest.
func decodeManifest(b []byte) (*manifest, error) {
	if len(b) > maxManifest {
		return nil, fmt.Errorf("vault: decode manifest: %d bytes exceeds %d", len(b), maxManifest)
	}
	rd := wire.NewReader(b)
	version := rd.Byte("version")
	if rd.Err() == nil && (version < 1 || version > manifestVersion) {
		return nil, fmt.Errorf("vault: decode manifest: unsupported version %d (want 1 to %d; upgrade tonmesh)", version, manifestVersion)
	}
	m := &manifest{Seq: rd.Uvarint("seq")}
	count := rd.Uvarint("element count")
	if rd.Err() == nil && count > maxElements {
		rd.Fail(fmt.Errorf("element count %d exceeds %d", count, maxElements))
	}
	for i := 0; rd.Err() == nil && i < int(count); i++ {
		e := decodeElement(rd, version)
		if rd.Err() != nil {
			break
		}
		if n := len(m.Elements); n > 0 && string(m.Elements[n-1].Type) >= string(e.Type) {
			rd.Fail(fmt.Errorf("element %q: elements are not sorted and unique", e.Type))
			break
		}
		m.Elements = append(m.Elements, e)
	}
	if rd.Err() == nil && version == 3 && !slices.ContainsFunc(m.Elements, func(e *elementEntry) bool { return e.Segment != 0 }) {
		rd.Fail(errors.New("a version-3 manifest without a striped element (it is written as version 2)"))
	}
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("vault: decode manifest: %w", err)
	}
	return m, nil
}

func decodeElement(rd *wire.Reader, version byte) *elementEntry {
	e := &elementEntry{Type: passport.ElementType(rd.LenPrefixed("type", maxTypeLen))}
	if rd.Err() == nil && !e.Type.Valid() {
		rd.Fail(fmt.Errorf("element type %q is not a passport element type", e.Type))
	}
	e.Added = readMillis(rd, "added", false)
	e.Size = readInt(rd, "size", math.MaxInt32)
	e.EncSize = readInt(rd, "encsize", math.MaxInt32)
	e.K = readInt(rd, "k", maxShards)
	e.N = readInt(rd, "n", maxShards)
	if version >= 3 {
		e.Segment = readInt(rd, "segment", shard.MaxSegment)
	}
	copy(e.Key[:], rd.Fixed("key", 32))
	copy(e.Seed[:], rd.Fixed("seed", 32))
	e.Audited = readMillis(rd, "audited", true)
	if rd.Err() == nil && (e.K < 1 || e.N < e.K) {
		rd.Fail(fmt.Errorf("element %q: %d of %d shards: need 1 <= k <= n", e.Type, e.K, e.N))
	}
	if rd.Err() == nil && e.Segment != 0 {
		l, err := shard.NewLayout(e.Size, e.K, e.N, e.Segment)
		if err == nil && l.EncSize() != e.EncSize {
			err = fmt.Errorf("encsize %d is not the layout's %d", e.EncSize, l.EncSize())
		}
		if err != nil {
			rd.Fail(fmt.Errorf("element %q: striped in segments of %d bytes: %w", e.Type, e.Segment, err))
		}
	}
	for i := 0; rd.Err() == nil && i < e.N; i++ {
		e.Shards = append(e.Shards, decodeShard(rd, version))
	}
	return e
}

func decodeShard(rd *wire.Reader, version byte) *shardEntry {
	s := &shardEntry{CID: readCID(rd, "shard cid")}
	raw := rd.LenPrefixed("holder", maxPeerIDLen)
	if rd.Err() == nil {
		id, err := peer.IDFromBytes(raw)
		if err != nil {
			rd.Fail(fmt.Errorf("holder: not a peer ID: %w", err))
		}
		s.Holder = id
	}
	s.Status = shardStatus(rd.Byte("status"))
	if rd.Err() == nil && s.Status >= statusMax {
		rd.Fail(fmt.Errorf("shard status %d is unknown", s.Status))
	}
	s.Next = rd.Uvarint("next")
	n := rd.Byte("answer count")
	if rd.Err() == nil && n > answersPerShard {
		rd.Fail(fmt.Errorf("answer count %d exceeds %d", n, answersPerShard))
	}
	for i := 0; rd.Err() == nil && i < int(n); i++ {
		var a [answerLen]byte
		copy(a[:], rd.Fixed("answer", answerLen))
		s.Answers = append(s.Answers, a)
	}
	if version >= 2 {
		s.Away = readMillis(rd, "away", true)
	}
	return s
}

func readInt(rd *wire.Reader, what string, max uint64) int {
	v := rd.Uvarint(what)
	if rd.Err() == nil && v > max {
		rd.Fail(fmt.Errorf("%s %d exceeds %d", what, v, max))
	}
	return int(min(v, max))
}

func readMillis(rd *wire.Reader, what string, zeroOK bool) time.Time {
	v := rd.Uvarint(what)
	switch {
	case rd.Err() != nil:
		return time.Time{}
	case v == 0 && zeroOK:
		return time.Time{}
	case v == 0 || v > math.MaxInt64/2:
		rd.Fail(fmt.Errorf("%s: time %d is out of range", what, v))
		return time.Time{}
	}
	return time.UnixMilli(int64(v))
}

// readCID reads a canonical CIDv1 raw BLAKE3 or sha2-256 CID.
func readCID(rd *wire.Reader, what string) cid.Cid {
	raw := rd.LenPrefixed(what, maxCIDLen)
	if rd.Err() != nil {
		return cid.Undef
	}
	n, c, err := cid.CidFromBytes(raw)
	if err != nil {
		rd.Fail(fmt.Errorf("%s: not a CID: %w", what, err))
		return cid.Undef
	}
	if err := checkCID(c); err != nil || n != len(raw) || !bytes.Equal(c.Bytes(), raw) {
		rd.Fail(fmt.Errorf("%s: not a canonical CIDv1 raw BLAKE3 or sha2-256 shard ID", what))
		return cid.Undef
	}
	return c
}

func checkCID(c cid.Cid) error {
	p := c.Prefix()
	if p.Version != 1 || p.Codec != cid.Raw || p.MhLength != 32 || (p.MhType != multihash.BLAKE3 && p.MhType != multihash.SHA2_256) {
		return errors.New("not a CIDv1 raw BLAKE3 or sha2-256 shard ID")
	}
	return nil
}
