package lite

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xssnick/tonutils-go/liteclient"
)

// TestDialClosedPorts: liteservers that refuse connections make Dial
// fail, well before its deadline, with an error that says what to fix.
func TestDialClosedPorts(t *testing.T) {
	path := writeFile(t, testGlobalConfig(t, testnetZeroState, closedPort(t), closedPort(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := Dial(ctx, Config{GlobalConfig: path, Network: Testnet}, WithLogger(quietLog()))
	if err == nil {
		c.Close()
		t.Fatal("Dial succeeded against closed ports")
	}
	if ctx.Err() != nil {
		t.Fatalf("Dial waited for its deadline instead of failing on refused connections: %v", err)
	}
	for _, want := range []string{"connect to the testnet liteservers of " + path, "none of the 2 answered", "connection refused", "ton.global_config"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestDialURLClosedPorts(t *testing.T) {
	cfg := testGlobalConfig(t, mainnetZeroState, closedPort(t))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(cfg) }))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := Dial(ctx, Config{GlobalConfig: srv.URL + "/global.config.json", Network: Mainnet}, WithLogger(quietLog()))
	if err == nil || !strings.Contains(err.Error(), "none of the 1 answered") {
		t.Fatalf("want a connect error, got %v", err)
	}
}

// TestDialChecksBeforeConnecting: a bad network, a bad config or the other
// network's config fail before any connection is tried.
func TestDialChecksBeforeConnecting(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	mainnetCfg := writeFile(t, testGlobalConfig(t, mainnetZeroState, closedPort(t)))
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"emu network", Config{GlobalConfig: mainnetCfg, Network: "emu"}, `"emu" is the in-process emulated chain`},
		{"no network", Config{GlobalConfig: mainnetCfg}, "ton.network"},
		{"missing config", Config{GlobalConfig: "/nonexistent/global.config.json", Network: Mainnet}, "cannot read /nonexistent/global.config.json"},
		{"other network's config", Config{GlobalConfig: mainnetCfg, Network: Testnet}, "is the mainnet global config but ton.network is testnet"},
	}
	for _, tc := range cases {
		c, err := Dial(ctx, tc.cfg, WithLogger(quietLog()))
		if err == nil {
			c.Close()
			t.Errorf("%s: Dial succeeded", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q lacks %q", tc.name, err, tc.want)
		}
		if strings.Contains(err.Error(), "connect to the") {
			t.Errorf("%s: tried to connect before refusing", tc.name)
		}
	}
}

func TestCloseTwice(t *testing.T) {
	c, _ := testChain(t, Mainnet)
	c.Close()
	c.Close()
	if c.ctx.Err() == nil {
		t.Error("Close did not end the chain's context")
	}
}

// TestDialFailureLeavesNoGoroutines: a failed Dial stops the pool it
// started (its dialers and its ping loop).
func TestDialFailureLeavesNoGoroutines(t *testing.T) {
	path := writeFile(t, testGlobalConfig(t, testnetZeroState, closedPort(t), closedPort(t), closedPort(t)))
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := Dial(ctx, Config{GlobalConfig: path, Network: Testnet}, WithLogger(quietLog())); err == nil {
		t.Fatal("Dial succeeded against closed ports")
	}
	// Goroutines end asynchronously: wait for them, bounded by ctx.
	for runtime.NumGoroutine() > before {
		select {
		case <-ctx.Done():
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before Dial, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestReconnectStopsOnClose: the reconnect loop lite gives the pool (in
// place of tonutils-go's, which never ends) ends when the chain closes.
func TestReconnectStopsOnClose(t *testing.T) {
	c, _ := testChain(t, Mainnet)
	c.pool = liteclient.NewConnectionPool()
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	addr := "127.0.0.1:" + strconv.Itoa(closedPort(t))
	done := make(chan struct{})
	go func() {
		c.reconnect(addr, key)
		close(done)
	}()
	c.Close()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the reconnect loop outlived Close")
	}
}
