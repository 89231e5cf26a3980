package webui_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tonmesh/tonmesh/compute"
	"github.com/tonmesh/tonmesh/config"
	"github.com/tonmesh/tonmesh/internal/harness"
	"github.com/tonmesh/tonmesh/node"
	"github.com/tonmesh/tonmesh/webui"
)

// TestBrowser drives the web app of a 3-node in-process cluster in one
// headless Debian chromium, one tab per node, logged in by login links.
// Node 1 is the chain host, market registry and compute proxy; node 2 the
// compute worker (a scripted backend the test paces); node 3 a user.
func TestBrowser(t *testing.T) {
	chromium := findChromium(t)
	gate := newGatedBackend("webui-test-model")
	c := harness.Start(t, 3,
		harness.EditConfig(func(i int, cfg *config.Config) {
			cfg.Vault.ShardsK, cfg.Vault.ShardsN = 1, 2 // two other nodes hold shards
			cfg.Compute.AllowUnattested = true
			switch i {
			case 0:
				cfg.Compute.Roles = []string{config.RoleProxy}
			case 1:
				cfg.Compute.Roles = []string{config.RoleWorker}
			}
		}),
		harness.NodeOptions(node.WithComputeConfig(func(cc *compute.Config) {
			cc.OfferInterval = time.Second
			cc.AllowUnattested = true
			if cc.Worker {
				cc.Backend = gate
			}
		})))
	b := newBrowser(t, chromium, c)
	fund(t, b)
	t.Run("node", func(t *testing.T) { testNodePage(t, b) })
	t.Run("chat", func(t *testing.T) { testChat(t, b) })
	t.Run("chat group", func(t *testing.T) { testChatGroup(t, b) })
	t.Run("market", func(t *testing.T) { testMarket(t, b) })
	t.Run("passport", func(t *testing.T) { testPassport(t, b) })
	t.Run("compute", func(t *testing.T) { testCompute(t, b, gate) })
	t.Run("devices", func(t *testing.T) { testDevices(t, b) })
	t.Run("login", func(t *testing.T) { testLogin(t, b) })
}

// findChromium returns the chromium to drive, or skips the test.
func findChromium(t *testing.T) string {
	for _, name := range []string{os.Getenv("TONMESH_CHROMIUM"), "chromium", "chromium-browser", "/usr/bin/chromium"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("browser tests skipped: chromium is not installed (apt-get install -y chromium, as .ci/run does, or set TONMESH_CHROMIUM)")
	return ""
}

// browser is one chromium with a logged-in tab per node.
type browser struct {
	c     *harness.Cluster
	tabs  []context.Context
	ids   []*node.IDInfo
	shots string

	mu   sync.Mutex
	shot int
}

func newBrowser(t *testing.T, chromium string, c *harness.Cluster) *browser {
	t.Helper()
	shots, err := os.MkdirTemp("", "tonmesh-webui-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("TONMESH_KEEP_SCREENSHOTS") != "" {
			t.Logf("screenshots of every page are kept in %s", shots)
			return
		}
		os.RemoveAll(shots)
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		// Anything but loopback (which Chrome never proxies) goes to a
		// closed local port: the browser reaches no other address.
		chromedp.ProxyServer("http://127.0.0.1:9"),
		chromedp.WindowSize(1280, 1000),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	b := &browser{c: c, shots: shots}
	var first context.Context
	for i := range c.Nodes {
		var tab context.Context
		var cancel context.CancelFunc
		if first == nil {
			tab, cancel = chromedp.NewContext(alloc)
			first = tab
		} else {
			tab, cancel = chromedp.NewContext(first)
		}
		t.Cleanup(cancel)
		// The first run starts the browser or the tab, and lives as long
		// as the tab: it must have no timeout.
		if err := chromedp.Do(tab); err != nil {
			t.Fatalf("start chromium: %v", err)
		}
		b.tabs = append(b.tabs, tab)
		id, err := c.Client(t, i).ID(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		b.ids = append(b.ids, id)
		var link webui.LoginLink
		if err := c.Client(t, i).Post(context.Background(), webui.LoginLinkPath, nil, &link); err != nil {
			t.Fatalf("node %d: login link: %v", i+1, err)
		}
		b.do(t, i, "log in with the login link", chromedp.Navigate(link.URL), chromedp.WaitVisible(chromedp.CSS("nav")))
	}
	return b
}

// do runs steps in node i's tab; on failure it screenshots every tab.
func (b *browser) do(t *testing.T, i int, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	run(t, b, i, what, chromedp.Steps(steps...))
}

// run runs action in node i's tab and returns its value; on failure it
// screenshots every tab.
func run[T any](t *testing.T, b *browser, i int, what string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.tabs[i], 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		b.screenshots(t, "failed")
		t.Fatalf("node %d: %s: %v", i+1, what, err)
	}
	return v
}

// open loads path in node i's tab and waits for the event stream.
func (b *browser) open(t *testing.T, i int, path string) {
	t.Helper()
	b.do(t, i, "open "+path, chromedp.Navigate(b.c.Nodes[i].APIURL()+path),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="open"]`)))
	b.mark(t, i)
}

// mark sets a mark on node i's page that a reload would clear; noReload
// reads it back.
func (b *browser) mark(t *testing.T, i int) {
	t.Helper()
	run(t, b, i, "mark the page", chromedp.Evaluate[int](`window.tonmeshMark = 1`))
}

// waitJS waits until expr is true in node i's tab.
func (b *browser) waitJS(t *testing.T, i int, what, expr string) {
	t.Helper()
	run(t, b, i, "wait for "+what, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(50*time.Second)))
}

// noReload fails if node i's tab loaded a page since open or mark.
func (b *browser) noReload(t *testing.T, i int) {
	t.Helper()
	if mark := run(t, b, i, "read the page mark", chromedp.Evaluate[int](`window.tonmeshMark || 0`)); mark != 1 {
		t.Fatalf("node %d: the page was reloaded", i+1)
	}
}

// screenshots writes a full-page PNG of every tab under b.shots.
func (b *browser) screenshots(t *testing.T, step string) {
	t.Helper()
	b.mu.Lock()
	b.shot++
	n := b.shot
	b.mu.Unlock()
	name := strings.ReplaceAll(t.Name(), "/", "_")
	for i, tab := range b.tabs {
		ctx, cancel := context.WithTimeout(tab, 10*time.Second)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			t.Logf("screenshot of node %d: %v", i+1, err)
			continue
		}
		file := filepath.Join(b.shots, fmt.Sprintf("%02d-%s-%s-node%s.png", n, name, step, strconv.Itoa(i+1)))
		if err := os.WriteFile(file, png, 0o600); err != nil {
			t.Logf("screenshot: %v", err)
		}
	}
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string { return strconv.Quote(s) }
