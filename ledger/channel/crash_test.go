package channel

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/xssnick/tonutils-go/address"
)

// Environment of the child side of TestVoucherCrash: the store directory
// and the seed (hex) of the payer key the parent signs with.
const (
	crashEnvDir = "TONMESH_VOUCHER_CRASH_DIR"
	crashEnvKey = "TONMESH_VOUCHER_CRASH_KEY"
	// crashEnvSeed, set when running the test, replays a failed run's
	// random choices (the test logs its seed).
	crashEnvSeed = "TONMESH_VOUCHER_CRASH_SEED"
)

const (
	crashRounds   = 20
	crashMaxAcks  = 40 // acks read before the kill: 0..crashMaxAcks
	crashMaxAhead = 8  // vouchers the parent streams ahead of the acks: 1..crashMaxAhead
	crashMaxDelay = 3 * time.Millisecond
	crashStep     = 1_000            // nanoTON between consecutive vouchers
	crashWatchdog = 30 * time.Second // a round that takes this long is stuck
)

// crashDeposit is what the child's channel holds: far above any voucher.
var crashDeposit = big.NewInt(1 << 62)

// TestVoucherCrash runs a child process that accepts vouchers streamed on
// its stdin and prints "ack <cumulative>" after each Accept returned nil,
// kills it with SIGKILL at a random moment (after a random number of acks,
// sometimes a few milliseconds later, in the middle of the next write),
// 20 times on one store, and after each kill checks that the payee reopened
// from that store holds a voucher at least as high as every one the child
// acknowledged, that it verifies, and that it is one the parent sent.
func TestVoucherCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashEnvSeed); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: want a decimal number", crashEnvSeed, s)
		}
	}
	t.Logf("random seed %d (replay with %s=%d)", seed, crashEnvSeed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	keySeed := make([]byte, ed25519.SeedSize)
	binary.BigEndian.PutUint64(keySeed, rng.Uint64())
	binary.BigEndian.PutUint64(keySeed[8:], rng.Uint64())
	key := ed25519.NewKeyFromSeed(keySeed)
	params := testParams(t, key, 1)
	ch, err := params.Address()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := &crashRun{
		t:      t,
		dir:    dir,
		env:    []string{crashEnvDir + "=" + dir, crashEnvKey + "=" + hex.EncodeToString(keySeed)},
		key:    key,
		params: params,
		ch:     ch,
		sent:   make(map[string][]byte),
		acked:  new(big.Int),
	}
	var durableBeyondAck int
	for round := range crashRounds {
		plan := crashPlan{
			acks:  rng.IntN(crashMaxAcks + 1),
			ahead: 1 + rng.IntN(crashMaxAhead),
		}
		if rng.IntN(2) == 1 {
			plan.delay = time.Duration(rng.Int64N(int64(crashMaxDelay)))
		}
		c.round(round, plan)
		stored := c.check(round)
		if stored.Cmp(c.acked) > 0 {
			durableBeyondAck++
		}
	}
	t.Logf("%d rounds: %d vouchers acknowledged in all, highest %s; in %d rounds the kill landed after a voucher was durable but before it was acknowledged",
		crashRounds, c.totalAcks, c.acked, durableBeyondAck)
	if c.totalAcks == 0 {
		t.Fatal("no voucher was acknowledged in any round: the test checked nothing")
	}
}

// crashPlan is when one round kills its child.
type crashPlan struct {
	acks  int           // kill after reading this many acks...
	delay time.Duration // ...and waiting this long
	ahead int           // vouchers written to the child beyond those acknowledged
}

// crashRun is the parent's side across rounds.
type crashRun struct {
	t      *testing.T
	dir    string
	env    []string // selects the child role and passes it dir and the key
	key    ed25519.PrivateKey
	params Params
	ch     *address.Address

	next      int64             // cumulative of the next voucher to sign, in crashStep units
	sent      map[string][]byte // cumulative → wire form of every voucher signed
	acked     *big.Int          // highest cumulative any child acknowledged
	totalAcks int
}

// childLine is one complete line the child printed.
type childLine struct {
	kind string // "ready", "ack" or "" (anything else)
	cum  *big.Int
	text string
}

// round starts a child on the store, streams vouchers to it and kills it
// as plan says; it returns once the child is dead and all its output read.
func (c *crashRun) round(round int, plan crashPlan) {
	t := c.t
	t.Helper()
	wires := c.sign(plan.acks + plan.ahead)

	cmd := exec.Command(os.Args[0], "-test.run=^TestVoucherCrashChild$")
	cmd.Env = append(os.Environ(), c.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	var stuck atomic.Bool
	watchdog := time.AfterFunc(crashWatchdog, func() {
		stuck.Store(true)
		_ = cmd.Process.Kill()
	})
	defer watchdog.Stop()

	lines := make(chan childLine, 64)
	go readChild(stdout, lines)

	// The writer keeps at most plan.ahead vouchers beyond the acks read.
	credit := make(chan struct{}, len(wires)+plan.ahead)
	for range plan.ahead {
		credit <- struct{}{}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup

	var other []string
	acks, killed := 0, false
	kill := func() {
		if plan.delay > 0 {
			time.Sleep(plan.delay)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Errorf("round %d: kill child: %v", round, err)
		}
		killed = true
	}
	for l := range lines {
		switch l.kind {
		case "ready":
			if l.cum.Cmp(c.acked) < 0 {
				t.Errorf("round %d: restarted child holds %s nanoTON, below the acknowledged %s", round, l.cum, c.acked)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				writeVouchers(stdin, wires, credit, stop)
			}()
			if plan.acks == 0 && !killed {
				kill()
			}
		case "ack":
			if _, ok := c.sent[l.cum.String()]; !ok || l.cum.Cmp(c.acked) <= 0 {
				t.Errorf("round %d: child acknowledged %s nanoTON, not the next voucher sent after %s", round, l.cum, c.acked)
			}
			if l.cum.Cmp(c.acked) > 0 {
				c.acked = l.cum
			}
			acks++
			c.totalAcks++
			credit <- struct{}{}
			if acks == plan.acks && !killed {
				kill()
			}
		default:
			other = append(other, l.text)
		}
	}
	// stdout is at EOF: the child is dead (or exited); every ack it
	// printed, even after the kill signal was sent, has been counted.
	close(stop)
	werr := cmd.Wait()
	wg.Wait()
	if stuck.Load() {
		t.Fatalf("round %d: child stuck for %s after %d acks; killed it:\n%s\n%s",
			round, crashWatchdog, acks, strings.Join(other, "\n"), stderr.String())
	}
	if !killed {
		t.Fatalf("round %d: child exited (%v) before the kill after %d of %d acks:\n%s\n%s",
			round, werr, acks, plan.acks, strings.Join(other, "\n"), stderr.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("round %d: child ended with %v, not by SIGKILL:\n%s\n%s", round, cmd.ProcessState, strings.Join(other, "\n"), stderr.String())
	}
	t.Logf("round %2d: killed after %3d acks (plan %2d, %d ahead, delay %s)", round, acks, plan.acks, plan.ahead, plan.delay)
}

// sign signs n more vouchers continuing the cumulative sequence.
func (c *crashRun) sign(n int) [][]byte {
	c.t.Helper()
	out := make([][]byte, n)
	for i := range out {
		c.next++
		cum := big.NewInt(c.next * crashStep)
		sv, err := Voucher{GlobalID: c.params.GlobalID, Channel: c.ch, Cumulative: cum}.Sign(c.key)
		if err != nil {
			c.t.Fatal(err)
		}
		if out[i], err = sv.MarshalBinary(); err != nil {
			c.t.Fatal(err)
		}
		c.sent[cum.String()] = out[i]
	}
	return out
}

// check reopens the store the dead child left and checks its latest
// voucher; it returns that voucher's cumulative.
func (c *crashRun) check(round int) *big.Int {
	t := c.t
	t.Helper()
	store, payee := openPayee(t, c.dir)
	defer store.Close()
	latest, err := payee.Latest(c.ch)
	if err != nil {
		t.Fatalf("round %d: after the kill the payee does not know channel %s: %v", round, c.ch, err)
	}
	if latest == nil {
		if c.acked.Sign() > 0 {
			t.Fatalf("round %d: after the kill no voucher is stored; %s nanoTON was acknowledged", round, c.acked)
		}
		return new(big.Int)
	}
	if latest.Cumulative.Cmp(c.acked) < 0 {
		t.Fatalf("round %d: after the kill the stored voucher is %s nanoTON; %s nanoTON was acknowledged", round, latest.Cumulative, c.acked)
	}
	if err := latest.Verify(c.params.PayerKey); err != nil {
		t.Fatalf("round %d: stored voucher of %s nanoTON does not verify: %v", round, latest.Cumulative, err)
	}
	wire, err := latest.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if sent, ok := c.sent[latest.Cumulative.String()]; !ok || !bytes.Equal(sent, wire) {
		t.Fatalf("round %d: stored voucher of %s nanoTON is not one the parent sent", round, latest.Cumulative)
	}
	return latest.Cumulative
}

// writeVouchers writes each wire form as a hex line, one per credit, until
// all are written, a write fails (the child died) or stop is closed.
func writeVouchers(w io.Writer, wires [][]byte, credit <-chan struct{}, stop <-chan struct{}) {
	for _, wire := range wires {
		select {
		case <-credit:
		case <-stop:
			return
		}
		if _, err := io.WriteString(w, hex.EncodeToString(wire)+"\n"); err != nil {
			return
		}
	}
}

// readChild sends every complete line of r to out and closes out at EOF; a
// last line without its newline (cut by the kill) is dropped.
func readChild(r io.Reader, out chan<- childLine) {
	defer close(out)
	br := bufio.NewReader(r)
	for {
		s, err := br.ReadString('\n')
		if err != nil {
			return
		}
		s = strings.TrimSuffix(s, "\n")
		l := childLine{text: s}
		if kind, num, ok := strings.Cut(s, " "); ok && (kind == "ack" || kind == "ready") {
			if n, ok := new(big.Int).SetString(num, 10); ok {
				l.kind, l.cum = kind, n
			}
		}
		out <- l
	}
}

// TestVoucherCrashChild is the child side of TestVoucherCrash: it opens the
// payee on the store, tracks the channel, prints "ready <latest>", then
// accepts each hex voucher line of stdin and prints "ack <cumulative>"
// once Accept returned nil.
func TestVoucherCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnvDir)
	if dir == "" {
		t.Skip("child process of TestVoucherCrash")
	}
	seed, err := hex.DecodeString(os.Getenv(crashEnvKey))
	if err != nil || len(seed) != ed25519.SeedSize {
		t.Fatalf("%s: want %d hex bytes (%v)", crashEnvKey, ed25519.SeedSize, err)
	}
	params := testParams(t, ed25519.NewKeyFromSeed(seed), 1)
	store, payee := openPayee(t, dir)
	defer store.Close()
	ctx := context.Background()
	ch, err := payee.Track(ctx, params, crashDeposit)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := payee.Latest(ch)
	if err != nil {
		t.Fatal(err)
	}
	held := new(big.Int)
	if latest != nil {
		held = latest.Cumulative
	}
	fmt.Printf("ready %s\n", held)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		wire, err := hex.DecodeString(sc.Text())
		if err != nil {
			t.Fatalf("voucher line %q: %v", sc.Text(), err)
		}
		sv, err := ParseSignedVoucher(wire)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := payee.Accept(ctx, sv); err != nil {
			t.Fatalf("accept %s nanoTON: %v", sv.Cumulative, err)
		}
		fmt.Printf("ack %s\n", sv.Cumulative)
	}
}
