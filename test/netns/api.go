package netns

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tonmesh/tonmesh/node"
)

// HTTPClient returns an HTTP client whose connections are opened inside
// h's namespace, so that a program in the root namespace reaches a lab
// node's API at 127.0.0.1 (the API never leaves the node's loopback).
func HTTPClient(h *Host) *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := InNS(h, func() (err error) {
			var d net.Dialer
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
}

// Health reads n's /healthz.
func (n *Node) Health(ctx context.Context, hc *http.Client) (*node.Health, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+APIListen+"/healthz", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: healthz: %w", n.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: healthz answered %s", n.Name, resp.Status)
	}
	var h node.Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return nil, fmt.Errorf("%s: healthz: %w", n.Name, err)
	}
	return &h, nil
}

// PID is the daemon's process ID (ip netns exec runs it in its own
// process), 0 before Start.
func (n *Node) PID() int {
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// Started reports when the daemon process started (zero before Start).
func (n *Node) Started() time.Time { return n.started }
