package testnet

import (
	"bytes"
	"strings"
	"testing"
)

// TestPrintTableWebAddresses: the ready table names every node's web app.
func TestPrintTableWebAddresses(t *testing.T) {
	m := &Manifest{Dir: "/tmp/tn", Nodes: []NodeInfo{
		{Name: "node1", Home: "/tmp/tn/node1", API: "http://127.0.0.1:4101", Web: "http://127.0.0.1:4101/ui/"},
		{Name: "node2", Home: "/tmp/tn/node2", API: "http://127.0.0.1:4103", Web: "http://127.0.0.1:4103/ui/"},
	}}
	var b bytes.Buffer
	printTable(&b, m)
	for _, want := range []string{"node1  http://127.0.0.1:4101/ui/", "node2  http://127.0.0.1:4103/ui/", "tonmesh --home /tmp/tn/node1 ui"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}
