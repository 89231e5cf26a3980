package chat

import (
	"strings"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/p2p"
)

func TestDeviceListRecordPolicy(t *testing.T) {
	l, priv := testDeviceList(t, 2)
	got, err := parseDeviceRecord(l.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 7 || len(got.Devices) != 2 || !got.has(l.Devices[1].Peer) || !got.has(l.Identity) {
		t.Fatalf("parsed %+v", got)
	}

	// Another key cannot write an identity's list.
	otherPriv, _ := testKey(t)
	forged := *l
	signTestList(t, otherPriv, &forged)
	if _, err := parseDeviceRecord(forged.Raw); err == nil {
		t.Fatal("a list signed by another key than the identity's was accepted")
	}

	// The rules of a list are enforced.
	for name, mutate := range map[string]func(*deviceList){
		"identity listed":  func(d *deviceList) { d.Devices[0].Peer = d.Identity },
		"not ascending":    func(d *deviceList) { d.Devices[0], d.Devices[1] = d.Devices[1], d.Devices[0] },
		"duplicate":        func(d *deviceList) { d.Devices[1] = d.Devices[0] },
		"long name":        func(d *deviceList) { d.Devices[0].Name = strings.Repeat("x", maxDeviceName+1) },
		"other identity":   func(d *deviceList) { _, d.Identity = testKey(t) },
		"bad utf-8 name":   func(d *deviceList) { d.Devices[0].Name = "\xff" },
		"too many devices": func(d *deviceList) { many, _ := testDeviceList(t, maxDevices+1); d.Devices = many.Devices },
	} {
		bad := &deviceList{Identity: l.Identity, Version: l.Version, Devices: append([]Device(nil), l.Devices...)}
		mutate(bad)
		rec, err := p2p.NewSignedRecord(priv, DeviceNamespace, l.Identity.String(), 8, time.Hour, bad.encodeValue())
		if err != nil {
			t.Fatal(err)
		}
		if err := validateDeviceRecord(rec); err == nil {
			t.Errorf("%s: the validator accepted the list", name)
		}
	}
}

func TestDeviceContentLimits(t *testing.T) {
	_, id := testKey(t)
	c := &deviceContent{Kind: kindText, Identity: id, Sync: true, Peer: id, Text: strings.Repeat("x", MaxDeviceText)}
	b, err := c.encode()
	if err != nil {
		t.Fatalf("the largest device text: %v", err)
	}
	if len(b) != maxBucket {
		t.Fatalf("the largest device text takes %d bytes, want the largest bucket", len(b))
	}
	c.Text += "x"
	if _, err := c.encode(); err == nil {
		t.Fatal("a device text over MaxDeviceText was encoded")
	}
	ok, _ := (&deviceContent{Kind: kindText, Identity: id, Text: "hi"}).encode()
	ok[len(ok)-1] = 1
	if _, err := decodeDeviceContent(ok); err == nil {
		t.Fatal("non-zero padding was accepted")
	}
}
