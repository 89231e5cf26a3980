package chat

import (
	"context"
	"net/http"
	"testing"

	"github.com/tonmesh/tonmesh/internal/apiutil"
)

// TestDeviceRoutes drives link, join, list, send and removal through the
// API clients, as the CLI does.
func TestDeviceRoutes(t *testing.T) {
	_, svcs := chatCluster(t, 3)
	a, b, b2 := svcs[0], svcs[1], svcs[2]
	ctx := context.Background()
	ca, cb, cb2 := apiClient(t, a), apiClient(t, b), apiClient(t, b2)

	if d, err := cb.Devices(ctx); err != nil || d.Identity != b.self.String() || d.Version != 0 || len(d.Devices) != 1 || !d.Devices[0].This {
		t.Fatalf("devices before any link = %+v, %v", d, err)
	}
	lr, err := cb.LinkDevice(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cb2.JoinDevice(ctx, "tonmesh://chat-device?id=nope", "laptop"); !apiutil.IsStatus(err, http.StatusBadRequest) {
		t.Fatalf("join with a malformed link: %v, want 400", err)
	}
	d, err := cb2.JoinDevice(ctx, lr.Link, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	if !d.Linked || d.Identity != b.self.String() || d.Version != 1 || len(d.Devices) != 2 || d.Devices[1].Name != "laptop" || !d.Devices[1].This {
		t.Fatalf("join = %+v", d)
	}
	if _, err := cb2.LinkDevice(ctx, 0); !apiutil.IsStatus(err, http.StatusForbidden) {
		t.Fatalf("a link from a linked device: %v, want 403", err)
	}
	if _, err := cb.RemoveDevice(ctx, a.self.String()); !apiutil.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("removing a device that is not listed: %v, want 404", err)
	}
	if _, err := cb.RemoveDevice(ctx, "not-a-peer"); !apiutil.IsStatus(err, http.StatusBadRequest) {
		t.Fatalf("removing a malformed peer: %v, want 400", err)
	}

	waitFor(t, "a sees the laptop", func() bool { return a.refreshDeviceList(ctx, b.self, 0).has(b2.self) })
	m, err := ca.Send(ctx, b.self.String(), "to both", 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Fanout == nil || m.Fanout.Members != 2 || m.Fanout.Delivered != 2 {
		t.Fatalf("send over the API = %+v", m)
	}
	page, err := cb2.Messages(ctx, a.self.String(), 0)
	if err != nil || len(page.Messages) != 1 || page.Messages[0].Text != "to both" {
		t.Fatalf("the laptop's messages = %+v, %v", page, err)
	}
	if _, err := cb2.Send(ctx, b.self.String(), "to myself", 0); !apiutil.IsStatus(err, http.StatusBadRequest) {
		t.Fatalf("a device sending to its own identity: %v, want 400", err)
	}

	d, err = cb.RemoveDevice(ctx, b2.self.String())
	if err != nil || d.Version != 2 || len(d.Devices) != 1 {
		t.Fatalf("remove = %+v, %v", d, err)
	}
	waitFor(t, "the laptop is told", func() bool {
		d, err := cb2.Devices(ctx)
		return err == nil && !d.Linked && d.Identity == b2.self.String()
	})
}
