package compute

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/crashtest"
)

const (
	bookCrashDirEnv = "TONMESH_BOOK_CRASH_DIR"
	bookCrashRounds = 10
	bookChannels    = 4
)

// TestKillNineKeepsAcknowledgedBills runs a child proxy book that bills
// from 8 goroutines on 4 shared channels (so bills share group commits)
// and prints every bill it acknowledges, SIGKILLs it at a random moment,
// and checks after each of 10 rounds that every channel's billed total in
// the reopened book is at least the highest total acknowledged on it, and
// that the job counter covers every acknowledged bill.
func TestKillNineKeepsAcknowledgedBills(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	var acks uint64
	for round := range bookCrashRounds {
		acked := runBookCrashChild(t, dir, 1+rng.IntN(300))
		store, space, _ := openBook(t, dir)
		for ch, want := range acked.billed {
			raw, err := space.Get(bookChannelKey(ch))
			if err != nil {
				t.Fatalf("round %d: channel %s acknowledged at %d, not in the book: %v", round, ch, want, err)
			}
			var r channelRecord
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatal(err)
			}
			if got, _ := strconv.ParseInt(r.Billed, 10, 64); got < want {
				t.Fatalf("round %d: channel %s acknowledged at %d, the book holds %s: a bill was lost", round, ch, want, r.Billed)
			}
		}
		raw, err := space.Get([]byte(bookStatsKey))
		var st statsRecord
		if err == nil {
			err = json.Unmarshal(raw, &st)
		}
		acks += acked.jobs
		if err != nil || st.Jobs < acks {
			t.Fatalf("round %d: counters %+v (%v): want at least %d jobs, one per acknowledged bill", round, st, err, acks)
		}
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d rounds, %d acknowledged bills checked", bookCrashRounds, acks)
}

// bookAcks is what a child acknowledged: the highest billed total per
// channel, and how many bills.
type bookAcks struct {
	billed map[string]int64
	jobs   uint64
}

func runBookCrashChild(t *testing.T, dir string, killAt int) bookAcks {
	t.Helper()
	acked := bookAcks{billed: make(map[string]int64)}
	n := crashtest.Run(t, "TestBookCrashChild", []string{bookCrashDirEnv + "=" + dir}, killAt, func(line string) bool {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "ack" {
			return false
		}
		billed, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			t.Fatalf("child printed %q", line)
		}
		acked.billed[f[1]] = max(acked.billed[f[1]], billed)
		return true
	})
	acked.jobs = uint64(n)
	return acked
}

// TestBookCrashChild is the child side of TestKillNineKeepsAcknowledgedBills.
func TestBookCrashChild(t *testing.T) {
	dir := os.Getenv(bookCrashDirEnv)
	if dir == "" {
		t.Skip("child process of TestKillNineKeepsAcknowledgedBills")
	}
	_, _, p := openBook(t, dir)
	// The same client in every round: the book binds each channel to it.
	k, _, err := crypto.GenerateEd25519Key(bytes.NewReader(make([]byte, 64)))
	if err != nil {
		t.Fatal(err)
	}
	client, _ := peer.IDFromPrivateKey(k)
	deposit := big.NewInt(1 << 62)
	for c := range bookChannels {
		if err := p.bindChannel(fmt.Sprintf("ch%d", c), client, new(big.Int)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			ch := fmt.Sprintf("ch%d", g%bookChannels)
			one := big.NewInt(1)
			for ctx.Err() == nil {
				if rerr := p.reserve(ch, deposit, new(big.Int), one); rerr != nil {
					t.Error(rerr)
					return
				}
				billed, err := p.charge(ch, one, one)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				fmt.Fprintf(w, "ack %s %s\n", ch, billed)
				w.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
