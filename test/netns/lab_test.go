package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

func newLab(t *testing.T, public, nated int) *Lab {
	t.Helper()
	if why := Available(); why != "" {
		t.Skip("network namespace tests skipped: " + why)
	}
	l, err := New(t.Context(), public, nated)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close lab: %v", err)
		}
	})
	return l
}

// listen opens a TCP listener inside h on port 7000 and echoes one line
// per connection: the remote address it saw.
func listen(t *testing.T, h *Host) {
	t.Helper()
	var ln net.Listener
	if err := InNS(h, func() (err error) {
		ln, err = net.Listen("tcp", h.Addr+":7000")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, c.RemoteAddr().(*net.TCPAddr).IP)
			c.Close()
		}
	}()
}

// dial connects from inside h to addr:7000 and returns the address the
// other side saw.
func dial(h *Host, addr string) (string, error) {
	var c net.Conn
	err := InNS(h, func() (err error) {
		d := net.Dialer{Timeout: 2 * time.Second}
		c, err = d.DialContext(context.Background(), "tcp", addr+":7000")
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	var seen string
	if _, err := fmt.Fscanln(c, &seen); err != nil {
		return "", err
	}
	return seen, nil
}

func TestLabNATAndPartition(t *testing.T) {
	l := newLab(t, 2, 1)
	n1, n2, m1 := l.Host("n1"), l.Host("n2"), l.Host("m1")
	for _, h := range l.Hosts {
		listen(t, h)
	}
	if seen, err := dial(n1, n2.Addr); err != nil || seen != n1.Addr {
		t.Fatalf("n1 -> n2: saw %q, %v", seen, err)
	}
	// Out of the NAT: the other side sees the router's WAN address.
	if seen, err := dial(m1, n1.Addr); err != nil || seen != m1.Public {
		t.Fatalf("m1 -> n1: saw %q, %v (want the router's %s)", seen, err, m1.Public)
	}
	// Into the NAT: nothing gets through.
	if _, err := dial(n1, m1.Addr); err == nil {
		t.Fatal("n1 reached the NATed host's private address")
	}
	if _, err := dial(n1, m1.Public); err == nil {
		t.Fatal("n1 reached a listener behind the NAT through the router")
	}

	ctx := t.Context()
	if err := l.Partition(ctx, []string{"n1"}, []string{"n2", "m1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(n1, n2.Addr); err == nil {
		t.Fatal("n1 reached n2 across the partition")
	}
	if _, err := dial(m1, n1.Addr); err == nil {
		t.Fatal("m1 reached n1 across the partition")
	}
	if _, err := dial(m1, n2.Addr); err != nil {
		t.Fatalf("m1 -> n2 within a group: %v", err)
	}
	if err := l.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(n1, n2.Addr); err != nil {
		t.Fatalf("n1 -> n2 after heal: %v", err)
	}
	if err := l.Down(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(n1, n2.Addr); err == nil {
		t.Fatal("n1 reached n2 with n2's link down")
	}
	if err := l.Up(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(n1, n2.Addr); err != nil {
		t.Fatalf("n1 -> n2 with the link back up: %v", err)
	}
	if err := l.Partition(ctx, []string{"n1"}, []string{"nobody"}); err == nil || !errors.Is(err, err) {
		t.Fatalf("partition with an unknown host: %v", err)
	}
}

func TestLabCloseRemovesNamespaces(t *testing.T) {
	l := newLab(t, 1, 1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, h := range l.Hosts {
		if err := InNS(h, func() error { return nil }); err == nil {
			t.Errorf("namespace %s still exists after Close", h.NS)
		}
	}
}

func TestParseGroups(t *testing.T) {
	g, err := ParseGroups(" n1, n2 |n3,m1")
	if err != nil || len(g) != 2 || g[0][1] != "n2" || g[1][1] != "m1" {
		t.Fatalf("ParseGroups: %v, %v", g, err)
	}
	for _, bad := range []string{"", "n1,n2", "n1||n2", "n1|,"} {
		if _, err := ParseGroups(bad); err == nil {
			t.Errorf("ParseGroups(%q) accepted", bad)
		}
	}
}

func TestSweepStaleLabs(t *testing.T) {
	if why := Available(); why != "" {
		t.Skip("network namespace tests skipped: " + why)
	}
	// A lab of a process that no longer exists: pid 0 is never a process.
	stale := "tm0x" + randomID() + "-n1"
	if err := run(t.Context(), "ip", "netns", "add", stale); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", stale).Run() })
	l := newLab(t, 1, 0)
	if _, err := os.Stat("/run/netns/" + stale); !os.IsNotExist(err) {
		t.Errorf("stale namespace %s survived a new lab (err %v)", stale, err)
	}
	if _, err := os.Stat("/run/netns/" + l.Hosts[0].NS); err != nil {
		t.Errorf("the new lab's namespace: %v", err)
	}
}
