package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"time"
)

// HashSize is the size of record hashes and Merkle nodes: SHA-256.
const HashSize = sha256.Size

// Limits on entry fields; Append refuses larger ones.
const (
	MaxKeyBytes          = 256
	MaxCounterpartyBytes = 256
	MaxPayloadBytes      = 16 << 10
	MaxAmountBytes       = 32 // 256-bit amounts; TON coins fit in 120 bits
	maxKindBytes         = 64
)

// recordTag starts the canonical encoding, so a record hash can never be
// confused with any other SHA-256 the project computes.
const recordTag = "tonmesh/journal/record/v1"

// Kind names what a settlement is. Kinds are checked against the journal's
// registry (DefaultKinds plus WithKinds).
type Kind string

// The kinds every journal knows.
const (
	KindJobPaid        Kind = "job_paid"
	KindAuctionSettled Kind = "auction_settled"
	KindSale           Kind = "sale"
	KindDeposit        Kind = "deposit"
	KindWithdrawal     Kind = "withdrawal"
	KindChannelOpen    Kind = "channel_open"
	KindChannelVoucher Kind = "channel_voucher"
	KindChannelRedeem  Kind = "channel_redeem"
	KindChannelClose   Kind = "channel_close"
	KindChannelTopUp   Kind = "channel_topup"
	KindShare          Kind = "share"
	KindTransfer       Kind = "transfer"
)

// DefaultKinds returns the kinds every journal accepts.
func DefaultKinds() []Kind {
	return []Kind{KindJobPaid, KindAuctionSettled, KindSale, KindDeposit, KindWithdrawal,
		KindChannelOpen, KindChannelVoucher, KindChannelRedeem, KindChannelClose, KindShare, KindTransfer,
		KindChannelTopUp}
}

var kindName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Entry is one settlement as the caller describes it.
type Entry struct {
	Kind Kind
	// Key is the idempotency key (required), e.g. the settling transaction
	// hash in hex, or "voucher:<channel>:<cumulative>".
	Key string
	// Amount in nanoTON; nil when the entry moves no value. Negative
	// amounts are allowed (a refund recorded as such).
	Amount *big.Int
	// Counterparty is who the settlement was with (an address, a peer ID).
	Counterparty string
	// Payload is small free-form data (JSON is customary).
	Payload []byte
	// Time is when the settlement happened; Append fills in the journal's
	// clock when it is zero. Stored with nanosecond precision, in UTC.
	Time time.Time
}

// Record is an entry as the journal holds it.
type Record struct {
	Seq  uint64
	Prev []byte
	Hash []byte
	Entry
}

// check validates the fields that do not depend on the registry.
func (e *Entry) check() error {
	if !kindName.MatchString(string(e.Kind)) {
		return fmt.Errorf("journal: kind %q: use 1-64 of a-z, 0-9, '_', starting with a letter", e.Kind)
	}
	if e.Key == "" {
		return errors.New("journal: entry has no idempotency key: give one (e.g. the transaction hash) so a retry cannot record it twice")
	}
	if len(e.Key) > MaxKeyBytes {
		return fmt.Errorf("journal: idempotency key is %d bytes, the limit is %d", len(e.Key), MaxKeyBytes)
	}
	if len(e.Counterparty) > MaxCounterpartyBytes {
		return fmt.Errorf("journal: counterparty is %d bytes, the limit is %d", len(e.Counterparty), MaxCounterpartyBytes)
	}
	if len(e.Payload) > MaxPayloadBytes {
		return fmt.Errorf("journal: payload is %d bytes, the limit is %d: keep bulk data elsewhere and record its hash", len(e.Payload), MaxPayloadBytes)
	}
	if e.Amount != nil && len(e.Amount.Bytes()) > MaxAmountBytes {
		return fmt.Errorf("journal: amount %s does not fit in %d bits", e.Amount, MaxAmountBytes*8)
	}
	return nil
}

// canonical is the encoding the hash covers:
//
//	tag | seq:u64 | prev:32 | kind:lp | key:lp | amount | counterparty:lp |
//	payload:lp | time:i64 unix nanoseconds
//
// where lp is a u32 length then the bytes, and amount is one byte (0 nil,
// 1 non-negative, 2 negative) then, unless nil, the magnitude as lp
// big-endian bytes with no leading zeros. All integers are big-endian.
func (r *Record) canonical() []byte {
	var b bytes.Buffer
	b.WriteString(recordTag)
	b.Write(binary.BigEndian.AppendUint64(nil, r.Seq))
	b.Write(r.Prev)
	putLP(&b, []byte(r.Kind))
	putLP(&b, []byte(r.Key))
	switch {
	case r.Amount == nil:
		b.WriteByte(0)
	case r.Amount.Sign() < 0:
		b.WriteByte(2)
		putLP(&b, r.Amount.Bytes())
	default:
		b.WriteByte(1)
		putLP(&b, r.Amount.Bytes())
	}
	putLP(&b, []byte(r.Counterparty))
	putLP(&b, r.Payload)
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(r.Time.UnixNano())))
	return b.Bytes()
}

// ComputeHash is SHA-256 of the record's canonical encoding (seq, prev and
// entry; not the stored Hash).
func (r *Record) ComputeHash() []byte {
	h := sha256.Sum256(r.canonical())
	return h[:]
}

// CheckHash reports whether Hash is the hash of the record's content.
func (r *Record) CheckHash() error {
	if len(r.Prev) != HashSize {
		return fmt.Errorf("journal: record %d: prev hash is %d bytes, want %d", r.Seq, len(r.Prev), HashSize)
	}
	if !bytes.Equal(r.ComputeHash(), r.Hash) {
		return fmt.Errorf("journal: record %d: stored hash %x does not match its content (%x): the record was altered", r.Seq, r.Hash, r.ComputeHash())
	}
	return nil
}

func putLP(b *bytes.Buffer, v []byte) {
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(v))))
	b.Write(v)
}

// MarshalRecord is the record's binary form: its canonical encoding
// followed by its 32-byte hash.
func MarshalRecord(r *Record) []byte {
	return append(r.canonical(), r.Hash...)
}

// UnmarshalRecord decodes MarshalRecord's output. It checks the layout and
// the limits but not the hash: call CheckHash for that.
func UnmarshalRecord(b []byte) (*Record, error) {
	d := decoder{b: b}
	if tag := d.take(len(recordTag)); d.err == nil && string(tag) != recordTag {
		return nil, errors.New("journal: decode record: not a journal record (bad tag)")
	}
	r := &Record{}
	r.Seq = d.u64()
	r.Prev = bytes.Clone(d.take(HashSize))
	r.Kind = Kind(d.lp(maxKindBytes))
	r.Key = string(d.lp(MaxKeyBytes))
	switch sign := d.byte1(); sign {
	case 0:
	case 1, 2:
		mag := d.lp(MaxAmountBytes)
		if len(mag) > 0 && mag[0] == 0 {
			d.fail("amount has a leading zero byte")
		}
		r.Amount = new(big.Int).SetBytes(mag)
		if sign == 2 {
			if r.Amount.Sign() == 0 {
				d.fail("negative zero amount")
			}
			r.Amount.Neg(r.Amount)
		}
	default:
		d.fail(fmt.Sprintf("amount flag %d", sign))
	}
	r.Counterparty = string(d.lp(MaxCounterpartyBytes))
	if p := d.lp(MaxPayloadBytes); len(p) > 0 {
		r.Payload = bytes.Clone(p)
	}
	r.Time = time.Unix(0, int64(d.u64())).UTC()
	r.Hash = bytes.Clone(d.take(HashSize))
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Sprintf("%d trailing bytes", len(d.b)))
	}
	if d.err != nil {
		return nil, fmt.Errorf("journal: decode record: %w", d.err)
	}
	if err := r.Entry.check(); err != nil {
		return nil, fmt.Errorf("journal: decode record %d: %w", r.Seq, err)
	}
	return r, nil
}

// decoder reads big-endian fields, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = errors.New(msg)
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b) < n {
		d.fail("truncated")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u64() uint64 {
	v := d.take(8)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func (d *decoder) byte1() byte {
	v := d.take(1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (d *decoder) lp(max int) []byte {
	n := d.take(4)
	if n == nil {
		return nil
	}
	l := binary.BigEndian.Uint32(n)
	if l > uint32(max) {
		d.fail(fmt.Sprintf("field of %d bytes exceeds the limit of %d", l, max))
		return nil
	}
	return d.take(int(l))
}
