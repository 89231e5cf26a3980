package shard

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/ledger"
)

const (
	crashDirEnv = "TONMESH_SHARD_CRASH_DIR"
	crashRounds = 6
	// The child's holder is its second peer, whose store is here under
	// the directory given to peers.Launch.
	crashHolderStore = "peer2"
)

// TestKillNineKeepsReceiptedShards runs a child process whose holder takes
// puts from several goroutines at once (so that its committer groups them),
// small shards kept in the store and large ones kept in files, and prints
// every receipt the child's client got; it SIGKILLs the child after a
// random number of receipts, and checks after each round, on the reopened
// store, that every receipted shard is there, of its size and matching its
// CID, and that nothing half written is left. The next round's holder opens
// the same store.
func TestKillNineKeepsReceiptedShards(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	rng := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 9))
	all := make(map[string]int) // CID → size, every round's receipts
	for round := range crashRounds {
		acked := runShardCrashChild(t, dir, 1+rng.IntN(60))
		for c, size := range acked {
			all[c] = size
		}
		checkCrashStore(t, round, filepath.Join(dir, crashHolderStore), all)
	}
	t.Logf("%d rounds, %d receipted shards checked", crashRounds, len(all))
}

// runShardCrashChild starts the child, reads receipts until killAt of them
// arrived, SIGKILLs it and returns CID → size of what was receipted.
func runShardCrashChild(t *testing.T, dir string, killAt int) map[string]int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHolderCrashChild$")
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := make(map[string]int)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "receipt" {
			continue
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			t.Fatalf("child printed %q", sc.Text())
		}
		acked[f[1]] = size
		if len(acked) == killAt {
			cmd.Process.Signal(syscall.SIGKILL)
			break
		}
	}
	cmd.Wait()
	if len(acked) < killAt {
		t.Fatalf("child exited after %d receipts, before it was killed", len(acked))
	}
	return acked
}

// checkCrashStore opens the killed holder's store as the next holder would
// and checks every receipted shard.
func checkCrashStore(t *testing.T, round int, dir string, want map[string]int) {
	t.Helper()
	s, err := ledger.Open(dir)
	if err != nil {
		t.Fatalf("round %d: reopen the holder's store: %v", round, err)
	}
	defer s.Close()
	sp, err := s.Space(SpaceName)
	if err != nil {
		t.Fatal(err)
	}
	st := shardStore{sp: sp, dir: filepath.Join(s.Dir(), FilesDir)}
	if err := st.openDir(); err != nil {
		t.Fatalf("round %d: open the shard directory: %v", round, err)
	}
	shards, _, err := st.usage()
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	if shards < len(want) {
		t.Fatalf("round %d: the store holds %d shards, %d were receipted", round, shards, len(want))
	}
	for cs, size := range want {
		c := cid.MustParse(cs)
		m, err := st.meta(c)
		if err != nil {
			t.Fatalf("round %d: receipted shard %s is not held: %v", round, c, err)
		}
		var data []byte
		if m.File {
			data, err = os.ReadFile(st.path(c))
		} else {
			data, err = st.data(c)
		}
		if err != nil || m.Size != size || len(data) != size || !CheckCID(c, data) {
			t.Fatalf("round %d: receipted shard %s (%d bytes, file %v): %d bytes held, %v; intact: %v",
				round, c, size, m.File, len(data), err, err == nil && CheckCID(c, data))
		}
	}
	entries, err := os.ReadDir(st.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		c, err := cid.Decode(e.Name())
		if err != nil {
			t.Fatalf("round %d: %s left in the shard directory after opening", round, e.Name())
		}
		if m, err := st.meta(c); err != nil || !m.File {
			t.Fatalf("round %d: file %s has no file meta (%v)", round, e.Name(), err)
		}
	}
}

// TestHolderCrashChild is the child side of
// TestKillNineKeepsReceiptedShards: a client and a holder, 8 goroutines
// putting random shards until killed.
func TestHolderCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("child process of TestKillNineKeepsReceiptedShards")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ps, err := peers.Launch(ctx, dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHolder(ps[1].Store, ps[1].Net, HolderConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	pub, _ := deleteKey(t)
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				size := 100 + mrand.IntN(4000)
				if (g+i)%4 == 0 {
					size = inlineMax + 1 + mrand.IntN(64<<10) // kept in a file
				}
				data := make([]byte, size)
				rand.Read(data)
				r, err := Put(ctx, ps[0].Net, h.self, data, pub)
				if err != nil {
					fmt.Fprintln(os.Stderr, "crash child: put:", err)
					return
				}
				mu.Lock()
				fmt.Fprintf(w, "receipt %s %d\n", r.CID, r.Size)
				w.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
