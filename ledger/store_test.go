package ledger

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSpacesAreIsolated(t *testing.T) {
	s := openTemp(t)
	a, err := s.Space("vault")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Space("chat")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Set([]byte("k"), []byte("from-vault")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get([]byte("k")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("chat sees vault's key: err=%v", err)
	}
	if err := b.Set([]byte("k"), []byte("from-chat")); err != nil {
		t.Fatal(err)
	}
	got, err := a.Get([]byte("k"))
	if err != nil || string(got) != "from-vault" {
		t.Fatalf("vault value = %q, %v", got, err)
	}
	var keys []string
	if err := a.Iterate(nil, func(k, v []byte) error { keys = append(keys, string(k)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "k" {
		t.Fatalf("vault iterate = %v, want [k]", keys)
	}
}

func TestSpaceNames(t *testing.T) {
	s := openTemp(t)
	if _, err := s.Space("market"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Space("market"); err == nil {
		t.Fatal("second registration of the same space succeeded")
	}
	for _, bad := range []string{"", "Vault", "a/b", "1abc", strings.Repeat("a", 33)} {
		if _, err := s.Space(bad); err == nil {
			t.Errorf("space name %q accepted", bad)
		}
	}
}

func TestIteratePrefixAndStop(t *testing.T) {
	s := openTemp(t)
	sp, _ := s.Space("node")
	b := sp.NewBatch()
	for _, k := range []string{"peer/a", "peer/b", "peer/c", "pex", "other"} {
		b.Set([]byte(k), []byte(k))
	}
	if b.Len() != 5 {
		t.Fatalf("batch len %d", b.Len())
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	var got []string
	stop := errors.New("stop")
	err := sp.Iterate([]byte("peer/"), func(k, v []byte) error {
		got = append(got, string(k))
		if len(got) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || strings.Join(got, ",") != "peer/a,peer/b" {
		t.Fatalf("iterate = %v, %v", got, err)
	}
	if err := sp.Delete([]byte("pex")); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Get([]byte("pex")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted key still there: %v", err)
	}
}

func TestIterateReverseFromKey(t *testing.T) {
	s := openTemp(t)
	sp, _ := s.Space("node")
	other, _ := s.Space("nodf") // the next space must not leak in
	for _, k := range []string{"t/1", "t/2", "t/3", "t/4", "u/1"} {
		if err := sp.Set([]byte(k), []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Set([]byte("t/9"), nil); err != nil {
		t.Fatal(err)
	}
	collect := func(from []byte, max int) string {
		var got []string
		stop := errors.New("stop")
		err := sp.IterateReverse([]byte("t/"), from, func(k, v []byte) error {
			got = append(got, string(k))
			if len(got) == max {
				return stop
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			t.Fatal(err)
		}
		return strings.Join(got, ",")
	}
	if got := collect(nil, 0); got != "t/4,t/3,t/2,t/1" {
		t.Errorf("all: %s", got)
	}
	if got := collect([]byte("t/3"), 2); got != "t/3,t/2" {
		t.Errorf("from t/3, two: %s", got)
	}
	if got := collect([]byte("t/0"), 0); got != "" {
		t.Errorf("before the first: %s", got)
	}
	forward := func(from string) string {
		var got []string
		if err := sp.IterateFrom([]byte("t/"), []byte(from), func(k, v []byte) error {
			got = append(got, string(k))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return strings.Join(got, ",")
	}
	for from, want := range map[string]string{"t/3": "t/3,t/4", "t/2x": "t/3,t/4", "": "t/1,t/2,t/3,t/4", "t/5": "", "a": "t/1,t/2,t/3,t/4"} {
		if got := forward(from); got != want {
			t.Errorf("forward from %q: %s, want %s", from, got, want)
		}
	}
}

func TestSecondOpenIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: err = %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	s2.Close()
}

func TestMetricsRegister(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := Open(t.TempDir(), WithMetrics(reg))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sp, _ := s.Space("x")
	if err := sp.Set([]byte("a"), []byte("b")); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, mf := range mfs {
		found[mf.GetName()] = true
		if mf.GetName() == "tonmesh_store_commits_total" && mf.GetMetric()[0].GetCounter().GetValue() != 1 {
			t.Errorf("commits = %v, want 1", mf.GetMetric()[0].GetCounter().GetValue())
		}
	}
	if !found["tonmesh_store_commits_total"] || !found["tonmesh_store_disk_bytes"] {
		t.Fatalf("metrics missing: %v", found)
	}
}

// TestKillNineLosesNoAcknowledgedWrite runs a child process that writes and
// acknowledges keys on stdout, kills it with SIGKILL mid-stream, and checks
// that every acknowledged key is in the reopened store.
func TestKillNineLosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	for round := 0; round < 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Stderr = os.Stderr
		cmd.Env = append(os.Environ(), "TONMESH_CRASH_CHILD_DIR="+dir, "TONMESH_CRASH_CHILD_ROUND="+strconv.Itoa(round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var acked []string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "ack ") {
				continue
			}
			acked = append(acked, strings.TrimPrefix(line, "ack "))
			if len(acked) == 50+round*37 {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
		cmd.Wait()
		if len(acked) == 0 {
			t.Fatal("child acknowledged nothing")
		}
		s, err := Open(dir)
		if err != nil {
			t.Fatalf("reopen after kill: %v", err)
		}
		sp, _ := s.Space("crash")
		for _, k := range acked {
			if _, err := sp.Get([]byte(k)); err != nil {
				t.Fatalf("round %d: acknowledged key %s lost: %v", round, k, err)
			}
		}
		s.Close()
	}
}

// TestCrashChild is the child side of TestKillNineLosesNoAcknowledgedWrite.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("TONMESH_CRASH_CHILD_DIR")
	if dir == "" {
		t.Skip("child process of TestKillNineLosesNoAcknowledgedWrite")
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	sp, _ := s.Space("crash")
	round := os.Getenv("TONMESH_CRASH_CHILD_ROUND")
	deadline := time.Now().Add(time.Minute)
	for i := 0; time.Now().Before(deadline); i++ {
		k := fmt.Sprintf("r%s-%06d", round, i)
		if err := sp.Set([]byte(k), []byte(k)); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("ack %s\n", k)
	}
}

func BenchmarkSetDurable(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	sp, _ := s.Space("bench")
	val := make([]byte, 128)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := sp.Set([]byte(strconv.Itoa(i)), val); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetDurableParallel(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	sp, _ := s.Space("bench")
	val := make([]byte, 128)
	b.SetParallelism(16)
	b.ResetTimer()
	var n int64
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			<-mu
			n++
			k := strconv.FormatInt(n, 10)
			mu <- struct{}{}
			if err := sp.Set([]byte(k), val); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestDurabilityCounts: every synced write counts as a commit, and the
// WAL fsyncs that carried them are counted too.
func TestDurabilityCounts(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sp, err := s.Space("counts")
	if err != nil {
		t.Fatal(err)
	}
	before := s.Durability()
	for i := range 5 {
		if err := sp.Set([]byte{byte(i)}, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	d := awaitFsyncs(t, s, before.Fsyncs+1)
	if d.Commits-before.Commits != 5 || d.Fsyncs-before.Fsyncs > 5 {
		t.Fatalf("after 5 sequential writes: %+v → %+v; want 5 commits and 1 to 5 fsyncs", before, d)
	}
}

// awaitFsyncs waits until s has counted at least n WAL fsyncs: Pebble
// counts an fsync just after it wakes the writers it made durable.
func awaitFsyncs(t *testing.T, s *Store, n uint64) Durability {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := s.Durability()
		if d.Fsyncs >= n {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store counted %d WAL fsyncs, want at least %d", d.Fsyncs, n)
		}
		time.Sleep(time.Millisecond)
	}
}
