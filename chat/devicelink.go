package chat

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/multiformats/go-multiaddr"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// Linking a device. The primary makes a link
//
//	tonmesh://chat-device?id=<primary peer ID>&secret=<32 bytes, base64url>&addr=<multiaddr>…
//
// whose secret it keeps in memory until it is used or expires. The new node
// dials the primary over DeviceProtocol and proves it holds the secret
// without sending it; the libp2p connection authenticates its peer ID.
// Once it has stored the list, it asks for the history (devicehistory.go).
// A request, version 1:
//
//	version  1 byte, = 1
//	op       1 byte: opJoin or opHistory (from a listed device; no fields)
//	name     opJoin: uvarint length, UTF-8, at most maxDeviceName bytes
//	proof    opJoin: 32 bytes, HMAC-SHA256(secret, joinDomain || primary || device)
//
// and the answer (to both; the list is the current one):
//
//	version  1 byte, = 1
//	status   1 byte: joinOK or joinRefused
//	reason   uvarint length, UTF-8, at most maxJoinReason bytes (refused)
//	list     uvarint length, the new signed device list record (ok)
//
// Each is exactly one request and one answer, with no trailing bytes.
const (
	DeviceProtocol  = "/tonmesh/chat/device/1.0.0"
	joinVersion     = 1
	joinDomain      = "tonmesh/chat/device-join/v1"
	opJoin          = 1
	opHistory       = 2
	joinOK          = 0
	joinRefused     = 1
	maxJoinReason   = 512
	maxJoinReq      = 2 + maxDeviceName + 8 + sha256.Size
	maxJoinResp     = 4 + maxJoinReason + maxDeviceRecord + 8
	linkScheme      = "tonmesh"
	linkHost        = "chat-device"
	linkSecretLen   = 32
	maxPendingLinks = 8
	// DefaultLinkTTL is how long a device link stays usable.
	DefaultLinkTTL = 10 * time.Minute
	maxLinkAddrs   = 8
)

// ErrNotPrimary wraps errors about a change only the primary may make.
var ErrNotPrimary = fmt.Errorf("%w: only the primary device changes the device list", ErrForbidden)

type joinReq struct {
	Op    byte
	Name  string
	Proof [sha256.Size]byte
}

func (r *joinReq) encode() []byte {
	if r.Op != opJoin {
		return []byte{joinVersion, r.Op}
	}
	out := wire.AppendLenPrefixed([]byte{joinVersion, r.Op}, []byte(r.Name))
	return append(out, r.Proof[:]...)
}

func decodeJoinReq(b []byte) (*joinReq, error) {
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != joinVersion {
		return nil, fmt.Errorf("decode join request: unsupported version %d (want %d)", v, joinVersion)
	}
	r := &joinReq{Op: rd.Byte("op")}
	switch {
	case rd.Err() != nil:
	case r.Op == opJoin:
		r.Name = string(rd.LenPrefixed("name", maxDeviceName))
		copy(r.Proof[:], rd.Fixed("proof", sha256.Size))
	case r.Op == opHistory:
	default:
		return nil, fmt.Errorf("decode join request: unknown op %d", r.Op)
	}
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode join request: %w", err)
	}
	if err := checkDeviceName(r.Name); err != nil {
		return nil, fmt.Errorf("decode join request: %w", err)
	}
	return r, nil
}

type joinResp struct {
	Status byte
	Reason string
	List   []byte
}

func (r *joinResp) encode() []byte {
	out := []byte{joinVersion, r.Status}
	if r.Status == joinOK {
		return wire.AppendLenPrefixed(out, r.List)
	}
	return wire.AppendLenPrefixed(out, []byte(r.Reason))
}

func decodeJoinResp(b []byte) (*joinResp, error) {
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != joinVersion {
		return nil, fmt.Errorf("decode join answer: unsupported version %d (want %d)", v, joinVersion)
	}
	r := &joinResp{Status: rd.Byte("status")}
	switch {
	case rd.Err() != nil:
	case r.Status == joinOK:
		r.List = rd.LenPrefixed("device list", maxDeviceRecord)
	case r.Status == joinRefused:
		r.Reason = string(rd.LenPrefixed("reason", maxJoinReason))
	default:
		return nil, fmt.Errorf("decode join answer: unknown status %d", r.Status)
	}
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode join answer: %w", err)
	}
	return r, nil
}

func joinProof(secret []byte, primary, device peer.ID) [sha256.Size]byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(joinDomain))
	mac.Write([]byte(primary))
	mac.Write([]byte(device))
	var out [sha256.Size]byte
	copy(out[:], mac.Sum(nil))
	return out
}

// pendingLink is a link secret the primary printed and has not seen used.
type pendingLink struct {
	secret []byte
	exp    time.Time
}

// deviceLink is a parsed link.
type deviceLink struct {
	Primary peer.ID
	Secret  []byte
	Addrs   []multiaddr.Multiaddr
}

func (l *deviceLink) String() string {
	q := url.Values{}
	q.Set("id", l.Primary.String())
	q.Set("secret", base64.RawURLEncoding.EncodeToString(l.Secret))
	for _, a := range l.Addrs {
		q.Add("addr", a.String())
	}
	return (&url.URL{Scheme: linkScheme, Host: linkHost, RawQuery: q.Encode()}).String()
}

// parseDeviceLink reads a link printed by `tonmesh chat device link`.
func parseDeviceLink(s string) (*deviceLink, error) {
	bad := func(why string) error {
		return fmt.Errorf("%w: device link: %s (paste the whole tonmesh://chat-device?… line the primary printed)", ErrBadRequest, why)
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != linkScheme || u.Host != linkHost {
		return nil, bad("not a tonmesh://chat-device link")
	}
	q := u.Query()
	l := &deviceLink{}
	if l.Primary, err = peer.Decode(q.Get("id")); err != nil {
		return nil, bad("id is not a peer ID")
	}
	if l.Secret, err = base64.RawURLEncoding.DecodeString(q.Get("secret")); err != nil || len(l.Secret) != linkSecretLen {
		return nil, bad("the secret is malformed")
	}
	if len(q["addr"]) > maxLinkAddrs {
		return nil, bad("too many addresses")
	}
	for _, a := range q["addr"] {
		ma, err := multiaddr.NewMultiaddr(a)
		if err != nil {
			return nil, bad(fmt.Sprintf("address %q is not a multiaddr", a))
		}
		l.Addrs = append(l.Addrs, ma)
	}
	return l, nil
}

// CreateDeviceLink makes a one-time link that a new node joins this
// identity with, valid for ttl (0: DefaultLinkTTL). Only the primary makes
// links.
func (s *Service) CreateDeviceLink(ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 {
		ttl = DefaultLinkTTL
	}
	if s.identity() != s.self {
		return "", time.Time{}, fmt.Errorf("%w: this node is a linked device of %s; make the link there", ErrNotPrimary, s.identity())
	}
	secret := make([]byte, linkSecretLen)
	if _, err := rand.Read(secret); err != nil {
		return "", time.Time{}, fmt.Errorf("chat: draw a link secret: %w", err)
	}
	exp := time.Now().Add(ttl)
	d := &s.devices
	d.mu.Lock()
	now := time.Now()
	for k, pl := range d.links {
		if now.After(pl.exp) {
			delete(d.links, k)
		}
	}
	if len(d.links) >= maxPendingLinks {
		d.mu.Unlock()
		return "", time.Time{}, fmt.Errorf("%w: %d device links are pending; use or let one expire first", ErrBadRequest, maxPendingLinks)
	}
	d.links[sha256.Sum256(secret)] = pendingLink{secret: secret, exp: exp}
	d.mu.Unlock()
	addrs := s.net.Addrs()
	if len(addrs) > maxLinkAddrs {
		addrs = addrs[:maxLinkAddrs]
	}
	l := &deviceLink{Primary: s.self, Secret: secret, Addrs: addrs}
	return l.String(), exp, nil
}

// handleJoin serves DeviceProtocol on the primary.
func (s *Service) handleJoin(ctx context.Context, from peer.ID, req []byte) ([]byte, error) {
	refuse := func(why string) ([]byte, error) {
		s.log.Warn("device join refused", "device", from, "reason", why)
		return (&joinResp{Status: joinRefused, Reason: why}).encode(), nil
	}
	r, err := decodeJoinReq(req)
	if err != nil {
		return refuse(err.Error())
	}
	if s.identity() != s.self {
		return refuse("this node is itself a linked device; join its primary")
	}
	if l := s.ownList(); l != nil && l.has(from) && from != s.self {
		// A listed device asks for the history, or joined before (its
		// answer was lost): the current list.
		if r.Op == opHistory {
			s.sendHistoryLater(from)
		}
		return (&joinResp{Status: joinOK, List: l.Raw}).encode(), nil
	}
	if r.Op != opJoin {
		return refuse("this node is not listed as a device of this identity")
	}
	if !s.useLinkSecret(from, r.Proof) {
		return refuse("no valid link: it was used, expired, or the primary restarted; make a new one with `tonmesh chat device link`")
	}
	l, err := s.changeDevices(ctx, func(l *deviceList) error {
		if l.has(from) {
			return nil // joined before; the answer is the current list
		}
		if len(l.Devices) >= maxDevices {
			return fmt.Errorf("the identity has %d devices, the most it may link", maxDevices)
		}
		l.Devices = append(l.Devices, Device{Peer: from, Name: r.Name, Added: time.UnixMilli(time.Now().UnixMilli())})
		slices.SortFunc(l.Devices, func(a, b Device) int { return cmpPeer(a.Peer, b.Peer) })
		return nil
	}, nil)
	if err != nil {
		return refuse(err.Error())
	}
	s.log.Info("device linked", "device", from, "name", r.Name, "version", l.Version)
	return (&joinResp{Status: joinOK, List: l.Raw}).encode(), nil
}

// useLinkSecret consumes the pending secret proof was made with. The
// proof cannot be matched to its secret by a lookup (the secret is not
// sent), so each pending one is tried: there are at most maxPendingLinks.
func (s *Service) useLinkSecret(device peer.ID, proof [sha256.Size]byte) bool {
	d := &s.devices
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	for k, pl := range d.links {
		if now.After(pl.exp) {
			delete(d.links, k)
			continue
		}
		want := joinProof(pl.secret, s.self, device)
		if hmac.Equal(want[:], proof[:]) {
			delete(d.links, k)
			return true
		}
	}
	return false
}

// changeDevices applies change to the primary's list and, when it changed
// anything, signs the next version, stores it durably, publishes it in the
// DHT (bounded; the republication loop retries) and pushes it in the
// background to the devices that were listed before and to also (a device
// just removed). It returns the list now in force.
func (s *Service) changeDevices(ctx context.Context, change func(*deviceList) error, also []peer.ID) (*deviceList, error) {
	d := &s.devices
	d.edit.Lock()
	cur := s.ownList()
	if cur != nil && cur.Identity != s.self {
		d.edit.Unlock()
		return nil, fmt.Errorf("%w: this node is a linked device of %s", ErrNotPrimary, cur.Identity)
	}
	next := &deviceList{Identity: s.self}
	if cur != nil {
		next.Version, next.Devices = cur.Version, slices.Clone(cur.Devices)
	}
	before := next.encodeValue()
	if err := change(next); err != nil {
		d.edit.Unlock()
		return nil, err
	}
	if cur != nil && string(next.encodeValue()) == string(before) {
		d.edit.Unlock()
		return cur, nil
	}
	next.Version++
	if err := s.signDeviceList(next); err != nil {
		d.edit.Unlock()
		return nil, err
	}
	b := s.space.NewBatch()
	s.setOwn(b, next)
	if err := b.Commit(); err != nil {
		d.edit.Unlock()
		return nil, fmt.Errorf("chat: store the device list: %w", err)
	}
	s.adoptOwn(next)
	d.edit.Unlock()
	pubCtx, cancel := context.WithTimeout(ctx, deviceFetchTimeout)
	defer cancel()
	if err := s.publishOwnList(pubCtx); err != nil {
		s.log.Warn("device list stored but not yet in the DHT; it is republished later", "err", err)
	}
	var to []peer.ID
	if cur != nil {
		for _, dv := range cur.Devices {
			if next.has(dv.Peer) {
				to = append(to, dv.Peer)
			}
		}
	}
	to = append(to, also...)
	if len(to) > 0 {
		s.devices.mu.Lock()
		runCtx := s.devices.ctx
		s.devices.mu.Unlock()
		if runCtx == nil {
			runCtx = context.Background()
		}
		pctx, cancel := context.WithTimeout(runCtx, time.Minute)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer cancel()
			n := s.pushOwnList(pctx, next, to)
			s.log.Info("device list pushed", "version", next.Version, "to", len(to), "took", n)
		}()
	}
	return next, nil
}

// JoinDevice links this node to the identity whose primary printed link:
// it proves the link's secret to the primary, which adds it to its signed
// device list. From then on this node chats as that identity. name names
// the device in the list.
func (s *Service) JoinDevice(ctx context.Context, link, name string) (*deviceList, error) {
	l, err := parseDeviceLink(link)
	if err != nil {
		return nil, err
	}
	if err := checkDeviceName(name); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if l.Primary == s.self {
		return nil, fmt.Errorf("%w: the link is this node's own; run join on the new device", ErrBadRequest)
	}
	if own := s.ownList(); own != nil {
		if own.Identity == l.Primary {
			return own, nil
		}
		if own.Identity != s.self {
			return nil, fmt.Errorf("%w: this node is already a device of %s; have that primary remove it first", ErrBadRequest, own.Identity)
		}
		if len(own.Devices) > 0 {
			return nil, fmt.Errorf("%w: this node is the primary of %d linked devices; remove them before joining another identity", ErrBadRequest, len(own.Devices))
		}
	}
	if len(l.Addrs) > 0 {
		s.net.Host().Peerstore().AddAddrs(l.Primary, l.Addrs, peerstore.TempAddrTTL)
	}
	req := (&joinReq{Op: opJoin, Name: name, Proof: joinProof(l.Secret, l.Primary, s.self)}).encode()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	raw, err := s.net.Request(rctx, l.Primary, DeviceProtocol, req, maxJoinResp)
	if err != nil {
		return nil, fmt.Errorf("chat: reach the primary %s: %w (is it online? the link's addresses must be reachable from here)", l.Primary, err)
	}
	resp, err := decodeJoinResp(raw)
	if err != nil {
		return nil, fmt.Errorf("chat: the primary's answer: %w", err)
	}
	if resp.Status != joinOK {
		return nil, fmt.Errorf("%w: the primary refused: %s", ErrForbidden, resp.Reason)
	}
	list, err := parseDeviceRecord(resp.List)
	if err != nil {
		return nil, fmt.Errorf("chat: the primary's device list: %w", err)
	}
	if list.Identity != l.Primary || !list.has(s.self) {
		return nil, fmt.Errorf("chat: the primary answered with a list of %s that does not name this node", list.Identity)
	}
	s.devices.edit.Lock()
	b := s.space.NewBatch()
	s.setOwn(b, list)
	err = b.Commit()
	if err == nil {
		s.adoptOwn(list)
	}
	s.devices.edit.Unlock()
	if err != nil {
		return nil, fmt.Errorf("chat: store the device list: %w", err)
	}
	s.log.Info("linked to identity", "identity", list.Identity, "version", list.Version)
	if _, err := s.net.Request(rctx, l.Primary, DeviceProtocol, (&joinReq{Op: opHistory}).encode(), maxJoinResp); err != nil {
		s.log.Warn("linked, but the primary was not asked for the history", "err", err)
	}
	return list, nil
}

// RemoveDevice removes device p from this primary's list: senders stop
// delivering to it once they see the new version, and p, told too, chats
// as itself again.
func (s *Service) RemoveDevice(ctx context.Context, p peer.ID) (*deviceList, error) {
	l, err := s.changeDevices(ctx, func(l *deviceList) error {
		i := slices.IndexFunc(l.Devices, func(d Device) bool { return d.Peer == p })
		if i < 0 {
			return fmt.Errorf("%w: %s is not a linked device of this identity", ErrNotFound, p)
		}
		l.Devices = slices.Delete(l.Devices, i, i+1)
		return nil
	}, []peer.ID{p})
	if err != nil {
		return nil, err
	}
	s.log.Info("device removed", "device", p, "version", l.Version)
	return l, nil
}
