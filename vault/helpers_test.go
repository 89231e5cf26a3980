package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/p2p/identity"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// node is a bare peer running a vault.
type node struct {
	*peers.Peer
	v    *Vault
	dir  string // the store directory, kept for the at-rest scan
	down bool   // stopped by the test
}

// stop stops the vault, then the peer.
func (n *node) stop() {
	n.down = true
	n.v.Stop()
	n.Peer.Stop()
}

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() && os.Getenv("VAULT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// quiet keeps the background loops out of the way of the test's own calls.
func quiet(cfg Config) Config {
	cfg.AuditInterval = time.Hour
	return cfg
}

// startVault runs a vault on p until the end of the test.
func startVault(t testing.TB, p *peers.Peer, cfg Config) *node {
	t.Helper()
	v, err := New(p.Store, p.Net, p.Identity, quiet(cfg), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := &node{Peer: p, v: v, dir: p.Store.Dir()}
	t.Cleanup(n.stop)
	return n
}

// startNodes starts n peers with a vault each; nodes[0] is everyone's
// bootstrap peer.
func startNodes(t testing.TB, n int, cfg Config) []*node {
	t.Helper()
	ps := peers.Start(t, n)
	out := make([]*node, n)
	for i, p := range ps {
		out[i] = startVault(t, p, cfg)
	}
	return out
}

// joinNode adds a peer with identity id (random if nil) and a vault.
func joinNode(t testing.TB, first *node, id *identity.Identity, cfg Config) *node {
	t.Helper()
	return startVault(t, peers.Join(t, first.Peer, id), cfg)
}

// sameIdentity rebuilds n's identity from its mnemonic, as a fresh
// install would.
func sameIdentity(t testing.TB, n *node) *identity.Identity {
	t.Helper()
	id, err := identity.FromMnemonic(n.Identity.Mnemonic)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func byPeer(ns []*node, p string) *node {
	for _, n := range ns {
		if n.Net.ID().String() == p {
			return n
		}
	}
	return nil
}

// jpeg returns size bytes that sniff as a JPEG: the SOI/APP0 header, then
// random bytes.
func jpeg(t testing.TB, size int) []byte {
	t.Helper()
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	copy(b, []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0})
	return b
}

func passportElement(t testing.TB, docNo string, scanSize int) *passport.Element {
	return &passport.Element{
		Type:      passport.TypePassport,
		Data:      map[string]string{"document_no": docNo, "expiry_date": "01.01.2035"},
		FrontSide: &passport.File{Name: "front.jpg", MIME: passport.MIMEJPEG, Bytes: jpeg(t, scanSize)},
	}
}

func personalDetails(firstName string) *passport.Element {
	return &passport.Element{
		Type: passport.TypePersonalDetails,
		Data: map[string]string{
			"first_name": firstName, "last_name": "Doe", "birth_date": "02.03.1990",
			"gender": "female", "country_code": "FR", "residence_country_code": "DE",
		},
	}
}

// sameElement fails unless got has want's type, data and files.
func sameElement(t testing.TB, got, want *passport.Element) {
	t.Helper()
	a, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b, err := want.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("element %s read back differs from what was added (%d vs %d bytes)", want.Type, len(a), len(b))
	}
}

// findInFiles returns the files under dirs that contain any of needles.
func findInFiles(t testing.TB, dirs []string, needles ...[]byte) []string {
	t.Helper()
	var hits []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, n := range needles {
				if bytes.Contains(b, n) {
					hits = append(hits, path)
					break
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return hits
}

func peerIDs(hs []HolderView) map[string]int {
	out := make(map[string]int)
	for _, h := range hs {
		out[h.Peer]++
	}
	return out
}

func mustPeer(t testing.TB, s string) peer.ID {
	t.Helper()
	p, err := peer.Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// steps returns what runs t's subtests one after another, stopping t at
// the first that fails (each builds on the state the last left).
func steps(t *testing.T) func(name string, f func(t *testing.T)) {
	return func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
}

// storedShards is the shards all of ns hold.
func storedShards(ns []*node) int {
	n := 0
	for _, x := range ns {
		n += x.v.HolderStats().Shards
	}
	return n
}

// serveAPI serves n's vault routes over HTTP until the test ends (or the
// server is closed) and returns a client of them.
func serveAPI(t testing.TB, n *node) (*Client, *httptest.Server) {
	mux := http.NewServeMux()
	n.v.Routes(func(p string, h http.Handler) { mux.Handle(p, h) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return NewClient(apiutil.NewClient(srv.URL, "")), srv
}
