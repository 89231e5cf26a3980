package journal

import (
	"bufio"
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/crashtest"
)

const (
	crashDirEnv   = "TONMESH_JOURNAL_CRASH_DIR"
	crashRoundEnv = "TONMESH_JOURNAL_CRASH_ROUND"
	crashRounds   = 20
)

// TestKillNineKeepsAcknowledgedAppends runs a child that appends from
// several goroutines and prints every acknowledged record, SIGKILLs it
// after a random number of acknowledgements, and checks after each of 20
// rounds that every acknowledged record is there with its seq, that the
// chain verifies and that seqs have no gaps.
func TestKillNineKeepsAcknowledgedAppends(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	total := 0
	for round := range crashRounds {
		killAt := 1 + rng.IntN(200)
		acked := runCrashChild(t, dir, round, killAt)
		total += len(acked)

		s := openStore(t, dir)
		j, err := Open(s)
		if err != nil {
			t.Fatalf("round %d: reopen journal: %v", round, err)
		}
		head, _ := j.Head()
		for key, seq := range acked {
			r, err := j.GetByKey(key)
			if err != nil {
				t.Fatalf("round %d: acknowledged %s (seq %d) lost: %v", round, key, seq, err)
			}
			if r.Seq != seq {
				t.Fatalf("round %d: %s acknowledged as seq %d, stored as %d", round, key, seq, r.Seq)
			}
		}
		if err := j.Verify(1, head); err != nil {
			t.Fatalf("round %d: chain of %d records: %v", round, head, err)
		}
		if recs, err := j.List(head, 0); err != nil || len(recs) != 0 {
			t.Fatalf("round %d: records past the head: %d, %v", round, len(recs), err)
		}
		j.Close()
		s.Close()
	}
	t.Logf("%d rounds, %d acknowledged appends checked", crashRounds, total)
}

// runCrashChild runs the child, SIGKILLs it after killAt
// acknowledgements and returns key → seq of everything it acknowledged.
func runCrashChild(t *testing.T, dir string, round, killAt int) map[string]uint64 {
	t.Helper()
	acked := make(map[string]uint64)
	env := []string{crashDirEnv + "=" + dir, crashRoundEnv + "=" + strconv.Itoa(round)}
	crashtest.Run(t, "TestJournalCrashChild", env, killAt, func(line string) bool {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "ack" {
			return false
		}
		seq, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			t.Fatalf("child printed %q", line)
		}
		acked[f[2]] = seq
		return true
	})
	if len(acked) == 0 {
		t.Fatalf("round %d: child acknowledged nothing", round)
	}
	return acked
}

// TestJournalCrashChild is the child side of
// TestKillNineKeepsAcknowledgedAppends.
func TestJournalCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("child process of TestKillNineKeepsAcknowledgedAppends")
	}
	s := openStore(t, dir)
	j, err := Open(s)
	if err != nil {
		t.Fatal(err)
	}
	round := os.Getenv(crashRoundEnv)
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("r%s-g%d-%06d", round, g, i)
				r, err := j.Append(ctx, Entry{Kind: KindChannelVoucher, Key: key, Amount: big.NewInt(int64(i))})
				if err != nil {
					return
				}
				mu.Lock()
				fmt.Fprintf(w, "ack %d %s\n", r.Seq, key)
				w.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}
