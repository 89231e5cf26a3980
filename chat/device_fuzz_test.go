package chat

import (
	"bytes"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/tonmesh/tonmesh/p2p"
)

// testDeviceList is a list of n fresh devices of a fresh identity, signed
// by its key, as its record bytes.
func testDeviceList(t testing.TB, n int) (*deviceList, crypto.PrivKey) {
	t.Helper()
	priv, id := testKey(t)
	l := &deviceList{Identity: id, Version: 7}
	for i := 0; i < n; i++ {
		_, d := testKey(t)
		l.Devices = append(l.Devices, Device{Peer: d, Name: "device", Added: time.UnixMilli(1_700_000_000_000 + int64(i))})
	}
	sortDevices(l)
	signTestList(t, priv, l)
	return l, priv
}

func sortDevices(l *deviceList) {
	for i := range l.Devices {
		for j := i + 1; j < len(l.Devices); j++ {
			if cmpPeer(l.Devices[j].Peer, l.Devices[i].Peer) < 0 {
				l.Devices[i], l.Devices[j] = l.Devices[j], l.Devices[i]
			}
		}
	}
}

// signTestList signs l's value (whatever it holds) with priv under l's
// identity and sets l.Raw.
func signTestList(t testing.TB, priv crypto.PrivKey, l *deviceList) {
	t.Helper()
	rec, err := p2p.NewSignedRecord(priv, DeviceNamespace, l.Identity.String(), l.Version, time.Hour, l.encodeValue())
	if err != nil {
		t.Fatal(err)
	}
	if l.Raw, err = rec.Marshal(); err != nil {
		t.Fatal(err)
	}
}

func FuzzDecodeDeviceList(f *testing.F) {
	l, _ := testDeviceList(f, 3)
	f.Add(l.encodeValue())
	f.Add(l.Raw)
	empty, _ := testDeviceList(f, 0)
	f.Add(empty.encodeValue())
	f.Add([]byte{deviceListVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, err := decodeDeviceListValue(b); err == nil {
			if !bytes.Equal(got.encodeValue(), b) {
				t.Fatal("decoded device list re-encodes differently")
			}
			if got.check() != nil || got.has("") {
				t.Fatal("a decoded list breaks the list's rules")
			}
		}
		if got, err := parseDeviceRecord(b); err == nil {
			if got.Identity.String() == "" || !got.has(got.Identity) {
				t.Fatal("a parsed record has no identity")
			}
		}
	})
}

func FuzzDecodeDeviceContent(f *testing.F) {
	_, id := testKey(f)
	_, other := testKey(f)
	l, _ := testDeviceList(f, 2)
	for _, c := range []deviceContent{
		{Kind: kindText, Identity: id, ListVer: 3, Text: "hello"},
		{Kind: kindText, Sync: true, Identity: id, ListVer: 3, Peer: other, Text: "copy"},
		{Kind: kindText, Sync: true, In: true, Identity: id, ListVer: 3, Peer: other, Text: "history"},
		{Kind: kindTimer, Identity: id, Timer: time.Hour},
		{Kind: kindDeviceList, Identity: l.Identity, ListVer: l.Version, List: l.Raw},
	} {
		b, err := c.encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{deviceContentVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeDeviceContent(b)
		if err != nil {
			return
		}
		if !isDeviceContent(b) {
			t.Fatal("decoded device content does not start with its version")
		}
		re, err := c.encode()
		if err != nil {
			t.Fatalf("decoded device content does not encode: %v", err)
		}
		c2, err := decodeDeviceContent(re)
		if err != nil || c2.Kind != c.Kind || c2.Sync != c.Sync || c2.In != c.In || c2.Identity != c.Identity || c2.Peer != c.Peer ||
			c2.Text != c.Text || c2.Timer != c.Timer || !bytes.Equal(c2.List, c.List) || c2.ListVer != c.ListVer {
			t.Fatalf("device content does not survive a round trip: %v", err)
		}
	})
}

func FuzzDecodeJoinRequest(f *testing.F) {
	f.Add((&joinReq{Op: opJoin, Name: "laptop", Proof: joinProof([]byte("secret"), "a", "b")}).encode())
	f.Add((&joinReq{Op: opJoin}).encode())
	f.Add((&joinReq{Op: opHistory}).encode())
	f.Add([]byte{joinVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeJoinReq(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.encode(), b) {
			t.Fatal("decoded join request re-encodes differently")
		}
	})
}

func FuzzDecodeJoinAnswer(f *testing.F) {
	l, _ := testDeviceList(f, 1)
	f.Add((&joinResp{Status: joinOK, List: l.Raw}).encode())
	f.Add((&joinResp{Status: joinRefused, Reason: "no valid link"}).encode())
	f.Add([]byte{joinVersion, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeJoinResp(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.encode(), b) {
			t.Fatal("decoded join answer re-encodes differently")
		}
	})
}

func FuzzParseDeviceLink(f *testing.F) {
	_, id := testKey(f)
	f.Add((&deviceLink{Primary: id, Secret: bytes.Repeat([]byte{7}, linkSecretLen)}).String())
	f.Add("tonmesh://chat-device?id=x&secret=y&addr=/ip4/127.0.0.1/tcp/1")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseDeviceLink(s)
		if err != nil {
			return
		}
		again, err := parseDeviceLink(l.String())
		if err != nil || again.Primary != l.Primary || !bytes.Equal(again.Secret, l.Secret) || len(again.Addrs) != len(l.Addrs) {
			t.Fatalf("a parsed link does not survive a round trip: %v", err)
		}
	})
}
