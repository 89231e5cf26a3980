package chat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/wire"
	"github.com/tonmesh/tonmesh/p2p"
)

// Linked devices. A user's identity is the peer ID of its primary node; the
// nodes linked to it (devices) keep their own peer keys and prekeys. The
// primary signs the list of its devices as a record of DeviceNamespace under
// its own peer ID, whose Seq is the list's version: every change (a device
// joins or is removed) takes the next version, and the DHT keeps the
// highest. A device list value, version 1 (big-endian):
//
//	version   1 byte, = 1
//	identity  uvarint length, peer ID bytes: the primary (= the record key)
//	count     uvarint, at most maxDevices
//	per device, peer IDs strictly ascending:
//	  peer    uvarint length, peer ID bytes (never the identity)
//	  name    uvarint length, UTF-8, at most maxDeviceName bytes
//	  added   8 bytes, unix milliseconds
//
// No trailing bytes: one encoding per list. The primary is always one of
// the identity's devices and is not listed.
const (
	// DeviceNamespace holds each identity's signed device list under its
	// peer ID.
	DeviceNamespace   = "chat-devices"
	deviceListVersion = 1
	// maxDevices is how many devices one identity may link.
	maxDevices = 16
	// maxDeviceName bounds a device's name.
	maxDeviceName = 64
	// deviceRecordTTL is the lifetime of a published list record; the
	// primary republishes it every PrekeyRefresh.
	deviceRecordTTL = 48 * time.Hour
	// maxDeviceRecord bounds an encoded list record (full list, a record's
	// own fields and signature).
	maxDeviceRecord = 4 << 10
)

// Device is one linked device of an identity.
type Device struct {
	Peer  peer.ID
	Name  string
	Added time.Time // millisecond precision
}

// deviceList is an identity's signed list of linked devices.
type deviceList struct {
	Identity peer.ID
	Version  uint64   // the record's Seq
	Devices  []Device // ascending by peer ID
	Raw      []byte   // the signed record it was read from (nil until signed)
	Expires  time.Time
}

// has reports whether p is one of the identity's devices (the primary
// included).
func (l *deviceList) has(p peer.ID) bool {
	if l == nil {
		return false
	}
	return p == l.Identity || slices.ContainsFunc(l.Devices, func(d Device) bool { return d.Peer == p })
}

// all is the identity's devices, the primary first.
func (l *deviceList) all() []peer.ID {
	out := []peer.ID{l.Identity}
	for _, d := range l.Devices {
		out = append(out, d.Peer)
	}
	return out
}

// encodeValue encodes the list as a record value.
func (l *deviceList) encodeValue() []byte {
	out := []byte{deviceListVersion}
	out = wire.AppendLenPrefixed(out, []byte(l.Identity))
	out = binary.AppendUvarint(out, uint64(len(l.Devices)))
	for _, d := range l.Devices {
		out = wire.AppendLenPrefixed(out, []byte(d.Peer))
		out = wire.AppendLenPrefixed(out, []byte(d.Name))
		out = binary.BigEndian.AppendUint64(out, uint64(d.Added.UnixMilli()))
	}
	return out
}

// decodeDeviceListValue strictly decodes a record value and checks the
// list's rules (ascending, unique, not the identity, valid names).
func decodeDeviceListValue(b []byte) (*deviceList, error) {
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != deviceListVersion {
		return nil, fmt.Errorf("decode device list: unsupported version %d (want %d)", v, deviceListVersion)
	}
	l := &deviceList{Identity: readPeerID(rd, "identity")}
	n := rd.Uvarint("count")
	if rd.Err() == nil && n > maxDevices {
		return nil, fmt.Errorf("decode device list: %d devices exceeds %d", n, maxDevices)
	}
	for i := 0; rd.Err() == nil && i < int(n); i++ {
		d := Device{Peer: readPeerID(rd, "device")}
		d.Name = string(rd.LenPrefixed("name", maxDeviceName))
		ms := rd.Uint64("added")
		if rd.Err() != nil {
			break
		}
		if ms == 0 || ms > math.MaxInt64 {
			return nil, fmt.Errorf("decode device list: added time %d is out of range", ms)
		}
		d.Added = time.UnixMilli(int64(ms))
		l.Devices = append(l.Devices, d)
	}
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode device list: %w", err)
	}
	if err := l.check(); err != nil {
		return nil, fmt.Errorf("decode device list: %w", err)
	}
	return l, nil
}

// check enforces the rules every list obeys.
func (l *deviceList) check() error {
	if len(l.Devices) > maxDevices {
		return fmt.Errorf("%d devices exceeds %d", len(l.Devices), maxDevices)
	}
	for i, d := range l.Devices {
		if d.Peer == l.Identity {
			return errors.New("the primary is listed as its own device")
		}
		if i > 0 && cmpPeer(l.Devices[i-1].Peer, d.Peer) >= 0 {
			return errors.New("devices must be strictly ascending by peer ID")
		}
		if err := checkDeviceName(d.Name); err != nil {
			return err
		}
	}
	return nil
}

func checkDeviceName(name string) error {
	if len(name) > maxDeviceName || !utf8.ValidString(name) {
		return fmt.Errorf("device name: use at most %d bytes of UTF-8", maxDeviceName)
	}
	return nil
}

// validateDeviceRecord is the policy of DeviceNamespace: the record is the
// signer's own (only the primary writes its list) and its value is a
// well-formed list of that identity.
func validateDeviceRecord(rec *p2p.SignedRecord) error {
	if err := p2p.SignerOwnsKey(rec); err != nil {
		return err
	}
	l, err := decodeDeviceListValue(rec.Value)
	if err != nil {
		return err
	}
	if l.Identity.String() != rec.Key {
		return fmt.Errorf("device list of %s stored under %q", l.Identity, rec.Key)
	}
	return nil
}

// parseDeviceRecord decodes and verifies a signed list record as kept in
// the store or carried in a message: signature and policy, but not expiry
// (a stored list stays this node's view after its DHT copy expired).
func parseDeviceRecord(raw []byte) (*deviceList, error) {
	if len(raw) > maxDeviceRecord {
		return nil, fmt.Errorf("device list record of %d bytes exceeds %d", len(raw), maxDeviceRecord)
	}
	rec, err := p2p.UnmarshalRecord(raw)
	if err != nil {
		return nil, fmt.Errorf("device list record: %w", err)
	}
	return listFromRecord(rec, raw)
}

func listFromRecord(rec *p2p.SignedRecord, raw []byte) (*deviceList, error) {
	if rec.Namespace != DeviceNamespace {
		return nil, fmt.Errorf("device list record: namespace %q, want %q", rec.Namespace, DeviceNamespace)
	}
	if err := rec.Verify(); err != nil {
		return nil, fmt.Errorf("device list record: %w", err)
	}
	if err := validateDeviceRecord(rec); err != nil {
		return nil, fmt.Errorf("device list record: %w", err)
	}
	l, _ := decodeDeviceListValue(rec.Value) // validated above
	l.Version, l.Raw, l.Expires = rec.Seq, raw, rec.Expires
	return l, nil
}

// signDeviceList signs l (its Version as the record's Seq) with the
// primary's key and sets l.Raw.
func (s *Service) signDeviceList(l *deviceList) error {
	if l.Identity != s.self {
		return fmt.Errorf("chat: only the primary %s signs its device list", l.Identity)
	}
	if err := l.check(); err != nil {
		return fmt.Errorf("chat: device list: %w", err)
	}
	rec, err := p2p.NewSignedRecord(s.id.PeerKey, DeviceNamespace, s.self.String(), l.Version, deviceRecordTTL, l.encodeValue())
	if err != nil {
		return fmt.Errorf("chat: sign the device list: %w", err)
	}
	raw, err := rec.Marshal()
	if err != nil {
		return fmt.Errorf("chat: encode the device list: %w", err)
	}
	l.Raw, l.Expires = raw, rec.Expires
	return nil
}
